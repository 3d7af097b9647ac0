using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Master.Sockets;

/// <summary>
/// An exclusive flock on the folder of a Unix socket file, held while a master checks for a stale
/// file, removes it and binds, or removes its own: two masters starting at once cannot each remove
/// the other's fresh file. Released on Dispose.
/// </summary>
[SupportedOSPlatform("linux")]
internal readonly struct FolderLock : IDisposable
{
    private readonly int _fd;

    private FolderLock(int fd) => _fd = fd;

    /// <summary>Waits for the lock on <paramref name="folder"/>; throws, naming the folder, when it cannot be opened.</summary>
    public static FolderLock Take(string folder)
    {
        int fd = Libc.LockFolder(folder);
        return fd >= 0
            ? new FolderLock(fd)
            : throw new InvalidOperationException($"cannot lock the folder {folder} ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(-fd)})");
    }

    /// <summary>The lock when the folder can be opened, else none (a folder removed meanwhile has nothing to protect).</summary>
    public static FolderLock TryTake(string? folder) =>
        folder is not null && Libc.LockFolder(folder) is var fd && fd >= 0 ? new FolderLock(fd) : default;

    public void Dispose()
    {
        if (_fd > 0)
        {
            Libc.Close(_fd);
        }
    }
}

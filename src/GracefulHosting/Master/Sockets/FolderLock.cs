using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Master.Sockets;

// Held while a master checks, removes and binds a socket file, so that two masters starting at once cannot remove each other's.
[SupportedOSPlatform("linux")]
internal readonly struct FolderLock : IDisposable
{
    private readonly int _fd;

    private FolderLock(int fd) => _fd = fd;

    public static FolderLock Take(string folder)
    {
        int fd = Libc.LockFolder(folder);
        return fd >= 0
            ? new FolderLock(fd)
            : throw new InvalidOperationException($"cannot lock the folder {folder} ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(-fd)})");
    }

    // No lock when the folder cannot be opened: a folder removed meanwhile has nothing to protect.
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

using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Master.Sockets;

// Removed on close only if the path still names this file: a second master that replaced it keeps its own.
[SupportedOSPlatform("linux")]
internal sealed record UnixSocketFile(string Path, (ulong Device, ulong Inode) Identity)
{
    public void Remove()
    {
        using var folder = FolderLock.TryTake(System.IO.Path.GetDirectoryName(Path));
        if (Libc.GetFileIdentity(Path, out var now) == 0 && now == Identity)
        {
            Libc.Unlink(Path);
        }
    }
}

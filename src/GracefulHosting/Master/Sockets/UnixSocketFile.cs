using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Master.Sockets;

/// <summary>
/// The file of a Unix domain socket the master bound, by path and identity. It is removed when the
/// socket closes only if the path still names that file: a second master that replaced it (say, an
/// operator's second start) keeps its own.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed record UnixSocketFile(string Path, (ulong Device, ulong Inode) Identity)
{
    /// <summary>Removes the file if it is still this socket's, under the folder's lock.</summary>
    public void Remove()
    {
        using var folder = FolderLock.TryTake(System.IO.Path.GetDirectoryName(Path));
        if (Libc.GetFileIdentity(Path, out var now) == 0 && now == Identity)
        {
            Libc.Unlink(Path);
        }
    }
}

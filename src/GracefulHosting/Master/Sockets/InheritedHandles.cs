using System.Globalization;
using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Master.Sockets;

// An app may serve these with ListenHandle.
[SupportedOSPlatform("linux")]
internal static class InheritedHandles
{
    // No FD_CLOEXEC means inherited, since .NET makes every descriptor close-on-exec; so call it before any child is started.
    public static IReadOnlyList<int> FindListening()
    {
        var found = new List<int>();
        foreach (string entry in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out int fd) || fd <= 2)
            {
                continue;
            }

            int flags = Libc.GetDescriptorFlags(fd);
            if (flags == -1 || (flags & Libc.FD_CLOEXEC) != 0)
            {
                continue;
            }

            try
            {
                SocketDescriptors.CheckListeningStream(fd, $"descriptor {fd}");
                found.Add(fd);
            }
            catch (InvalidOperationException)
            {
                // Not a listening socket: an app cannot serve on it.
            }
        }

        return found;
    }
}

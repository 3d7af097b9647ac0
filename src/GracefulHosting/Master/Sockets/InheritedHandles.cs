using System.Globalization;
using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Master.Sockets;

/// <summary>The listening sockets this process inherited from whoever started it, which an app may serve with <c>ListenHandle</c>.</summary>
[SupportedOSPlatform("linux")]
internal static class InheritedHandles
{
    /// <summary>
    /// Descriptors above stdio that lack FD_CLOEXEC (so they came from the parent: every descriptor .NET
    /// creates is close-on-exec) and are listening stream sockets. Call it before any child is started.
    /// </summary>
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

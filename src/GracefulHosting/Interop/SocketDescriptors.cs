using System.Runtime.Versioning;

namespace GracefulHosting.Interop;

/// <summary>
/// Checks on descriptors handed to this process (by a master or by systemd) before they are used.
/// Each failure throws <see cref="InvalidOperationException"/> with a message that starts with the
/// caller's name for the descriptor.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class SocketDescriptors
{
    /// <summary>Checks that <paramref name="fd"/> is open and a socket; returns its domain and type.</summary>
    public static void CheckSocket(int fd, string name, out int domain, out int type)
    {
        if (Libc.GetDescriptorFlags(fd) == -1)
        {
            throw new InvalidOperationException($"{name} is not open.");
        }

        int error = Libc.GetSocketOption(fd, Libc.SOL_SOCKET, Libc.SO_DOMAIN, out domain);
        if (error == Libc.ENOTSOCK)
        {
            throw new InvalidOperationException($"{name} is not a socket.");
        }

        Check(error, name);
        Check(Libc.GetSocketOption(fd, Libc.SOL_SOCKET, Libc.SO_TYPE, out type), name);
    }

    /// <summary>
    /// Checks that <paramref name="fd"/> is a listening stream socket: TCP (IPv4 or IPv6) or a Unix
    /// domain socket, the kinds Kestrel serves on.
    /// </summary>
    public static void CheckListeningStream(int fd, string name)
    {
        CheckSocket(fd, name, out int domain, out int type);
        if (domain is not (Libc.AF_INET or Libc.AF_INET6 or Libc.AF_UNIX) || type != Libc.SOCK_STREAM)
        {
            throw new InvalidOperationException($"{name} is not a TCP or Unix domain stream socket.");
        }

        Check(Libc.GetSocketOption(fd, Libc.SOL_SOCKET, Libc.SO_ACCEPTCONN, out int listening), name);
        if (listening == 0)
        {
            throw new InvalidOperationException($"{name} is a socket that is not listening.");
        }
    }

    /// <summary>Throws unless <paramref name="errno"/> is 0.</summary>
    public static void Check(int errno, string name)
    {
        if (errno != 0)
        {
            throw new InvalidOperationException($"{name} cannot be used: errno {errno}.");
        }
    }
}

using System.Runtime.Versioning;

namespace GracefulHosting.Interop;

// Checks descriptors a master or systemd handed over before they are used; each message starts with the caller's name for it.
[SupportedOSPlatform("linux")]
internal static class SocketDescriptors
{
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

    // TCP or a Unix domain socket: the kinds Kestrel serves on.
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

    public static void Check(int errno, string name)
    {
        if (errno != 0)
        {
            throw new InvalidOperationException($"{name} cannot be used: errno {errno}.");
        }
    }
}

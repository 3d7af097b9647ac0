using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Interop;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Systemd;

internal static class ActivatedSockets
{
    // A Socket that does not own the descriptor: systemd keeps its own copy.
    [SupportedOSPlatform("linux")]
    public static OpenedSocket Open(ActivatedSocket activated)
    {
        int fd = activated.Fd;
        string name = $"LISTEN_FDS: descriptor {fd}" + (activated.Name is null ? "" : $" ('{activated.Name}')");
        SocketDescriptors.CheckListeningStream(fd, name);
        Libc.SetCloseOnExec(fd, closeOnExec: true);
        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: false));
        return new OpenedSocket(activated, socket, socket.LocalEndPoint
            ?? throw new InvalidOperationException($"{name} is not bound to an address."));
    }

    // Any address matches any address, and an IPv4 address its IPv4-mapped IPv6 form.
    internal static bool SameAddress(EndPoint requested, EndPoint local)
    {
        if (requested is UnixDomainSocketEndPoint || local is UnixDomainSocketEndPoint)
        {
            return requested is UnixDomainSocketEndPoint && local is UnixDomainSocketEndPoint &&
                string.Equals(requested.ToString(), local.ToString(), StringComparison.Ordinal);
        }

        if (requested is not IPEndPoint wanted || local is not IPEndPoint bound || wanted.Port == 0 || wanted.Port != bound.Port)
        {
            return false;
        }

        return wanted.Address.Equals(bound.Address) ||
            (IsAny(wanted.Address) && IsAny(bound.Address)) ||
            (bound.Address.IsIPv4MappedToIPv6 && bound.Address.MapToIPv4().Equals(wanted.Address));
    }

    private static bool IsAny(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
}

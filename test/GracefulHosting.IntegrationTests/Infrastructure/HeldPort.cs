using System.Net;
using System.Net.Sockets;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// A port of 127.0.0.1 that the test holds for a process it starts, for when the process must be told
/// a port number (systemd-socket-activate takes no port 0; a changed endpoint must differ from the old
/// one). Picking a free port and releasing it would let any other process take it before the one
/// meant to; instead the test keeps a socket bound to the port with SO_REUSEADDR and never listens on
/// it. The kernel then gives the port to no one else, while a process that also sets SO_REUSEADDR
/// and listens (the master, Kestrel, systemd-socket-activate) can take it over. Connections to the
/// port are refused until that process listens; the held socket never accepts one.
/// </summary>
internal sealed class HeldPort : IDisposable
{
    private const int SOL_SOCKET = 1;
    private const int SO_REUSEADDR = 2;

    private readonly Socket _socket;

    public HeldPort()
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        // Plain SO_REUSEADDR: SocketOptionName.ReuseAddress would add SO_REUSEPORT on Linux, which lets
        // another SO_REUSEPORT socket share the port even while it listens.
        _socket.SetRawSocketOption(SOL_SOCKET, SO_REUSEADDR, BitConverter.GetBytes(1));
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    public void Dispose() => _socket.Dispose();
}

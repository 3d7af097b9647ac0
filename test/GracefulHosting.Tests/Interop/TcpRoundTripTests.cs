using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Interop;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Interop;

[SupportedOSPlatform("linux")]
public sealed class TcpRoundTripTests
{
    [LinuxFact]
    public async Task Of_LoopbackTcpConnection_ShortRoundTrip()
    {
        using var listener = ListeningTcp();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();
        // A byte each way, so the kernel has timed acknowledged data, not only the handshake.
        await accepted.SendAsync(new byte[] { 1 });
        Assert.Equal(1, await client.ReceiveAsync(new byte[1]));
        await client.SendAsync(new byte[] { 2 });
        Assert.Equal(1, await accepted.ReceiveAsync(new byte[1]));

        var roundTrip = TcpRoundTrip.Of(accepted);

        // Loopback round trips take microseconds; the neighbouring fields of tcp_info (window sizes,
        // MTU) read as microseconds would be tens of milliseconds.
        Assert.NotNull(roundTrip);
        Assert.InRange(roundTrip.Value, TimeSpan.FromTicks(1), TimeSpan.FromMilliseconds(20));
    }

    [LinuxFact]
    public async Task Of_UnixSocket_Null()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rtt-{Guid.NewGuid():N}.sock");
        try
        {
            using var listener = ListeningUnix(path);
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
            using var accepted = await listener.AcceptAsync();

            Assert.Null(TcpRoundTrip.Of(accepted));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [LinuxFact]
    public void Of_ClosedSocket_Null()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Dispose();

        Assert.Null(TcpRoundTrip.Of(socket));
    }
}

using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace GracefulHosting.Interop;

// The round trip Linux measures for each TCP connection (TCP_INFO's tcpi_rtt, smoothed, in microseconds).
[SupportedOSPlatform("linux")]
internal static class TcpRoundTrip
{
    private const int IPPROTO_TCP = 6;
    private const int TCP_INFO = 11;
    // struct tcp_info: eight one-byte fields, then 32-bit fields; tcpi_rtt is the 16th of those.
    private const int RttOffset = 68;

    public static TimeSpan? Of(Socket socket)
    {
        Span<byte> info = stackalloc byte[256];
        try
        {
            int length = socket.GetRawSocketOption(IPPROTO_TCP, TCP_INFO, info);
            return length < RttOffset + sizeof(uint)
                ? null
                : TimeSpan.FromMicroseconds(MemoryMarshal.Read<uint>(info[RttOffset..]));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // A Unix domain socket has no TCP_INFO; a closed one has nothing to tell.
            return null;
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Tests;

/// <summary>Real sockets on 127.0.0.1 port 0 and temporary paths, and checks on raw descriptors, for tests that own and close them.</summary>
[SupportedOSPlatform("linux")]
internal static class TestSockets
{
    /// <summary>A TCP socket listening on 127.0.0.1 and a port the kernel picks.</summary>
    public static Socket ListeningTcp(bool reusePort = false, int port = 0)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (reusePort)
        {
            // On Linux this sets SO_REUSEPORT too, so that two test sockets can listen on one port.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        }

        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        socket.Listen();
        return socket;
    }

    /// <summary>A Unix domain stream socket listening on <paramref name="path"/>.</summary>
    public static Socket ListeningUnix(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen();
        return socket;
    }

    public static int Fd(Socket socket) => (int)socket.SafeHandle.DangerousGetHandle();

    public static int Port(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

    /// <summary>A close-on-exec duplicate of the socket's descriptor, which the caller (or the code under test) closes.</summary>
    public static int Duplicate(Socket socket)
    {
        int fd = Libc.DuplicateCloseOnExec(Fd(socket));
        Assert.True(fd >= 0, "dup failed");
        return fd;
    }

    /// <summary>The address the socket behind <paramref name="fd"/> is bound to, through a view that does not own it.</summary>
    public static EndPoint? LocalOf(int fd)
    {
        using var view = new Socket(new SafeSocketHandle(fd, ownsHandle: false));
        return view.LocalEndPoint;
    }

    /// <summary>True when <paramref name="fd"/> is open and a listening socket.</summary>
    public static bool IsListening(int fd) =>
        Libc.GetSocketOption(fd, Libc.SOL_SOCKET, Libc.SO_ACCEPTCONN, out int listening) == 0 && listening == 1;

    public static bool IsCloseOnExec(int fd) => (Libc.GetDescriptorFlags(fd) & Libc.FD_CLOEXEC) != 0;

    /// <summary>Connects a client to <paramref name="address"/> and accepts it on <paramref name="listener"/>.</summary>
    public static async Task AssertAcceptsAsync(Socket listener, EndPoint address)
    {
        using var client = new Socket(address.AddressFamily, SocketType.Stream, address is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        await client.ConnectAsync(address).WaitAsync(TimeSpan.FromSeconds(10));
        using var accepted = await listener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(client.LocalEndPoint?.ToString(), accepted.RemoteEndPoint?.ToString());
    }

    /// <summary>True when a connection to <paramref name="address"/> is refused: nothing listens there.</summary>
    public static bool Refuses(EndPoint address)
    {
        using var client = new Socket(address.AddressFamily, SocketType.Stream, address is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        try
        {
            client.Connect(address);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return true;
        }
    }

    /// <summary>A socket file nothing listens on, as a process that was killed leaves it.</summary>
    public static void LeaveStaleSocketFile(string path)
    {
        string bound = path + ".bound";
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(bound));
        // Disposing the socket removes the file by the name it was bound to, which is gone by then.
        File.Move(bound, path);
    }
}

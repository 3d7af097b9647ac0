using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Child;
using GracefulHosting.Interop;

namespace GracefulHosting.Tests.Child;

[SupportedOSPlatform("linux")]
public sealed class InheritedSocketsTests : IDisposable
{
    // A descriptor number no test opens: far above what a test process uses.
    private const int ClosedFd = 1_000_000;

    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var item in _owned)
        {
            item.Dispose();
        }
    }

    [LinuxFact]
    public void Validate_ListenersAndControlChannel_Succeeds()
    {
        var (v4, v4Fd) = Listening(IPAddress.Loopback);
        var (v6, v6Fd) = Listening(IPAddress.IPv6Loopback);
        var marker = new ChildMarker(3, ControlFd(),
        [
            new InheritedListener(v4Fd, v4.LocalEndPoint!.ToString()!),
            new InheritedListener(v6Fd, v6.LocalEndPoint!.ToString()!),
        ]);

        var sockets = InheritedSockets.Validate(marker);

        Assert.Same(marker, sockets.Marker);
        Assert.Equal(marker.Listeners, sockets.Unclaimed);
    }

    [LinuxFact]
    public void Validate_ConnectedSeqPacketPairAsControl_Succeeds()
    {
        var (listener, fd) = Listening(IPAddress.Loopback);
        Assert.Equal(0, Libc.CreateSeqPacketPair(out int childEnd, out int masterEnd));
        try
        {
            var sockets = InheritedSockets.Validate(new ChildMarker(1, childEnd, [new InheritedListener(fd, listener.LocalEndPoint!.ToString()!)]));

            Assert.Equal(childEnd, sockets.Marker.ControlFd);
        }
        finally
        {
            Libc.Close(childEnd);
            Libc.Close(masterEnd);
        }
    }

    [LinuxFact]
    public void Validate_NoListeners_Succeeds()
    {
        var sockets = InheritedSockets.Validate(new ChildMarker(1, ControlFd(), []));

        Assert.Empty(sockets.Unclaimed);
    }

    [LinuxFact]
    public void Validate_InheritableDescriptors_MarksThemCloseOnExec()
    {
        var (listener, listenFd) = Listening(IPAddress.Loopback);
        int controlFd = ControlFd();
        Assert.Equal(0, Libc.SetCloseOnExec(listenFd, closeOnExec: false));
        Assert.Equal(0, Libc.SetCloseOnExec(controlFd, closeOnExec: false));
        Assert.Equal(0, Libc.GetDescriptorFlags(listenFd) & Libc.FD_CLOEXEC);

        InheritedSockets.Validate(new ChildMarker(1, controlFd, [new InheritedListener(listenFd, listener.LocalEndPoint!.ToString()!)]));

        Assert.Equal(Libc.FD_CLOEXEC, Libc.GetDescriptorFlags(listenFd) & Libc.FD_CLOEXEC);
        Assert.Equal(Libc.FD_CLOEXEC, Libc.GetDescriptorFlags(controlFd) & Libc.FD_CLOEXEC);
    }

    [LinuxFact]
    public void TryTake_KnownEndpoint_ReturnsFdOnce()
    {
        var (listener, fd) = Listening(IPAddress.Loopback);
        string endpoint = listener.LocalEndPoint!.ToString()!;
        var sockets = InheritedSockets.Validate(new ChildMarker(1, ControlFd(), [new InheritedListener(fd, endpoint)]));

        Assert.True(sockets.TryTake(endpoint, out int taken));
        Assert.Equal(fd, taken);
        Assert.Empty(sockets.Unclaimed);

        Assert.False(sockets.TryTake(endpoint, out int again));
        Assert.Equal(-1, again);
    }

    [LinuxFact]
    public void TryTake_UnknownEndpoint_ReturnsFalseAndKeepsListener()
    {
        var sockets = new InheritedSockets(new ChildMarker(1, 3, [new InheritedListener(10, "127.0.0.1:80")]));

        Assert.False(sockets.TryTake("[::1]:80", out int other));
        Assert.Equal(-1, other);
        Assert.False(sockets.TryTake("127.0.0.1:81", out _));
        Assert.False(sockets.TryTake("unix:/127.0.0.1:80", out _));
        Assert.Single(sockets.Unclaimed);
    }

    [LinuxFact]
    public void TryTake_SameEndpointTwice_EachTakesTheNextFdInOrder()
    {
        var sockets = new InheritedSockets(new ChildMarker(1, 3,
        [
            new InheritedListener(10, "127.0.0.1:0"),
            new InheritedListener(11, "127.0.0.1:0"),
        ]));

        Assert.True(sockets.TryTake("127.0.0.1:0", out int first));
        Assert.True(sockets.TryTake("127.0.0.1:0", out int second));

        Assert.Equal((10, 11), (first, second));
    }

    [LinuxFact]
    public void TryTake_TwoListeners_EachEndpointGetsItsOwnFd()
    {
        var sockets = new InheritedSockets(new ChildMarker(1, 3,
        [
            new InheritedListener(10, "127.0.0.1:80"),
            new InheritedListener(11, "unix:/run/app.sock"),
        ]));

        Assert.True(sockets.TryTake("unix:/run/app.sock", out int unix));
        Assert.True(sockets.TryTake("127.0.0.1:80", out int http));

        Assert.Equal(11, unix);
        Assert.Equal(10, http);
    }

    [LinuxFact]
    public void Adopt_DirectModeListeners_ReplaceMarkerListenersAndCanBeTaken()
    {
        var sockets = new InheritedSockets(new ChildMarker(0, -1, []));

        sockets.Adopt([new InheritedListener(3, "127.0.0.1:80")]);

        Assert.Equal(3, Assert.Single(sockets.Marker.Listeners).Fd);
        Assert.Equal(-1, sockets.Marker.ControlFd);
        Assert.True(sockets.TryTake("127.0.0.1:80", out int fd));
        Assert.Equal(3, fd);
    }

    [LinuxFact]
    public void Validate_ClosedListenFd_ThrowsNotOpen()
    {
        var marker = new ChildMarker(1, ControlFd(), [new InheritedListener(ClosedFd, "127.0.0.1:80")]);

        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.Validate(marker));

        Assert.Contains($"listen descriptor {ClosedFd} is not open", e.Message, StringComparison.Ordinal);
        Assert.Contains(ChildMarker.VariableName, e.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Validate_ClosedControlFd_ThrowsNotOpen()
    {
        var (listener, fd) = Listening(IPAddress.Loopback);
        var marker = new ChildMarker(1, ClosedFd, [new InheritedListener(fd, listener.LocalEndPoint!.ToString()!)]);

        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.Validate(marker));

        Assert.Contains($"control descriptor {ClosedFd} is not open", e.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Validate_ListenFdIsAFile_ThrowsNotASocket()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
            int fd = (int)file.SafeFileHandle.DangerousGetHandle();
            var marker = new ChildMarker(1, ControlFd(), [new InheritedListener(fd, "127.0.0.1:80")]);

            var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.Validate(marker));

            Assert.Contains($"listen descriptor {fd} is not a socket", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [LinuxFact]
    public void Validate_ControlFdIsAFile_ThrowsNotASocket()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
            int fd = (int)file.SafeFileHandle.DangerousGetHandle();

            var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.Validate(new ChildMarker(1, fd, [])));

            Assert.Contains($"control descriptor {fd} is not a socket", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [LinuxFact]
    public void Validate_BoundButNotListening_ThrowsNotListening()
    {
        var socket = Own(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int fd = Fd(socket);
        var marker = new ChildMarker(1, ControlFd(), [new InheritedListener(fd, socket.LocalEndPoint!.ToString()!)]);

        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.Validate(marker));

        Assert.Contains($"listen descriptor {fd} is a socket that is not listening", e.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Validate_ListenFdIsUdp_ThrowsNotTcp()
    {
        var socket = Own(new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int fd = Fd(socket);
        var marker = new ChildMarker(1, ControlFd(), [new InheritedListener(fd, socket.LocalEndPoint!.ToString()!)]);

        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.Validate(marker));

        Assert.Contains($"listen descriptor {fd} is not a TCP or Unix domain stream socket", e.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Validate_ListenFdIsUnixStreamListener_Succeeds()
    {
        string path = Path.Combine(Path.GetTempPath(), $"gh-{Guid.NewGuid():N}.sock");
        try
        {
            var socket = Own(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified));
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen();
            int fd = Fd(socket);
            var marker = new ChildMarker(1, ControlFd(), [new InheritedListener(fd, "unix:" + path)]);

            var sockets = InheritedSockets.Validate(marker);

            Assert.True(sockets.TryTake("unix:" + path, out int taken));
            Assert.Equal(fd, taken);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [LinuxFact]
    public void Validate_ControlFdIsTcpSocket_ThrowsNotControlChannel()
    {
        var (listener, listenFd) = Listening(IPAddress.Loopback);
        var (_, tcpFd) = Listening(IPAddress.Loopback);
        var marker = new ChildMarker(1, tcpFd, [new InheritedListener(listenFd, listener.LocalEndPoint!.ToString()!)]);

        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.Validate(marker));

        Assert.Contains($"control descriptor {tcpFd} is not the master's control channel", e.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Validate_ControlFdIsUnixStreamSocket_ThrowsNotControlChannel()
    {
        int fd = Fd(Own(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)));

        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.Validate(new ChildMarker(1, fd, [])));

        Assert.Contains($"control descriptor {fd} is not the master's control channel", e.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Validate_SecondListenerBad_ThrowsNamingThatFd()
    {
        var (good, goodFd) = Listening(IPAddress.Loopback);
        var bound = Own(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int badFd = Fd(bound);
        var marker = new ChildMarker(1, ControlFd(),
        [
            new InheritedListener(goodFd, good.LocalEndPoint!.ToString()!),
            new InheritedListener(badFd, bound.LocalEndPoint!.ToString()!),
        ]);

        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.Validate(marker));

        Assert.Contains($"listen descriptor {badFd} ", e.Message, StringComparison.Ordinal);
    }

    private (Socket Socket, int Fd) Listening(IPAddress address)
    {
        var socket = Own(new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        socket.Bind(new IPEndPoint(address, 0));
        socket.Listen();
        return (socket, Fd(socket));
    }

    private int ControlFd() => Fd(Own(new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified)));

    private T Own<T>(T item)
        where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    private static int Fd(Socket socket) => (int)socket.SafeHandle.DangerousGetHandle();
}

[SupportedOSPlatform("linux")]
[Collection(DescriptorCollection.Name)]
public sealed class InheritedSocketsCloseTests
{
    [LinuxFact]
    public void CloseUnclaimed_OneClaimed_ClosesOnlyTheOther()
    {
        Assert.Equal(0, Libc.CreateSeqPacketPair(out int claimedFd, out int unclaimedFd));
        try
        {
            var sockets = new InheritedSockets(new ChildMarker(1, 3,
            [
                new InheritedListener(claimedFd, "127.0.0.1:1"),
                new InheritedListener(unclaimedFd, "127.0.0.1:2"),
            ]));
            Assert.True(sockets.TryTake("127.0.0.1:1", out _));

            sockets.CloseUnclaimed();

            Assert.Equal(-1, Libc.GetDescriptorFlags(unclaimedFd));
            Assert.NotEqual(-1, Libc.GetDescriptorFlags(claimedFd));
            sockets.Close(claimedFd);
            Assert.Equal(-1, Libc.GetDescriptorFlags(claimedFd));
        }
        finally
        {
            Libc.Close(claimedFd);
            Libc.Close(unclaimedFd);
        }
    }

    [LinuxFact]
    public void Close_SameFdTwice_ClosesOnce()
    {
        Assert.Equal(0, Libc.CreateSeqPacketPair(out int fd, out int peer));
        var sockets = new InheritedSockets(new ChildMarker(1, 3, [new InheritedListener(fd, "127.0.0.1:1")]));
        sockets.Close(fd);
        Assert.Equal(-1, Libc.GetDescriptorFlags(fd));
        Libc.Close(peer);

        // The lowest free numbers are reused: the new pair takes the numbers just closed.
        Assert.Equal(0, Libc.CreateSeqPacketPair(out int reused, out int reusedPeer));
        try
        {
            Assert.Equal(fd, Math.Min(reused, reusedPeer));

            sockets.Close(fd);

            Assert.NotEqual(-1, Libc.GetDescriptorFlags(fd));
        }
        finally
        {
            Libc.Close(reused);
            Libc.Close(reusedPeer);
        }
    }
}

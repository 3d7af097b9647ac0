using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Child;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Interop;
using GracefulHosting.Protocol;
using Microsoft.AspNetCore.Connections;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Child.Sockets;

[SupportedOSPlatform("linux")]
public sealed class InheritedSocketsTests : IDisposable
{
    // A descriptor number no test opens: far above what a test process uses.
    private const int ClosedFd = 1_000_000;

    private readonly List<IDisposable> _owned = [];
    // Closed by number at the end: InheritedSockets.Close would skip a number it closed before and the kernel reused.
    private readonly List<int> _taken = [];
    private readonly Socket _listener;

    public InheritedSocketsTests() => _listener = Own(ListeningTcp());

    public void Dispose()
    {
        foreach (int fd in _taken)
        {
            Libc.Close(fd);
        }

        foreach (var item in _owned)
        {
            item.Dispose();
        }
    }

    [LinuxFact]
    public void ValidateControl_SeqPacketPairEnd_AcceptedAndMadeCloseOnExec()
    {
        Assert.Equal(0, Libc.CreateSeqPacketPair(out int child, out int master));
        try
        {
            Assert.Equal(0, Libc.SetCloseOnExec(child, closeOnExec: false));

            InheritedSockets.ValidateControl(new ChildMarker(1, child));

            Assert.True(IsCloseOnExec(child));
        }
        finally
        {
            Libc.Close(child);
            Libc.Close(master);
        }
    }

    [LinuxFact]
    public void ValidateControl_ClosedDescriptor_ThrowsNamingTheVariableAndDescriptor()
    {
        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.ValidateControl(new ChildMarker(1, ClosedFd)));

        Assert.Equal($"GRACEFULHOSTING_CHILD: control descriptor {ClosedFd} is not open.", e.Message);
    }

    [LinuxFact]
    public void ValidateControl_File_ThrowsNotASocket()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
            int fd = (int)file.SafeFileHandle.DangerousGetHandle();

            var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.ValidateControl(new ChildMarker(1, fd)));

            Assert.Equal($"GRACEFULHOSTING_CHILD: control descriptor {fd} is not a socket.", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [LinuxFact]
    public void ValidateControl_TcpSocket_ThrowsNotTheControlChannel()
    {
        int fd = Fd(_listener);

        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.ValidateControl(new ChildMarker(1, fd)));

        Assert.Equal($"GRACEFULHOSTING_CHILD: control descriptor {fd} is not the master's control channel (an AF_UNIX packet socket).", e.Message);
    }

    [LinuxFact]
    public void ValidateControl_UnixStreamSocket_ThrowsNotTheControlChannel()
    {
        int fd = Fd(Own(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)));

        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.ValidateControl(new ChildMarker(1, fd)));

        Assert.Contains($"control descriptor {fd} is not the master's control channel", e.Message, StringComparison.Ordinal);
        Assert.StartsWith(ChildMarker.VariableName, e.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void ValidateControl_UnixDatagramSocket_ThrowsNotTheControlChannel()
    {
        int fd = Fd(Own(new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified)));

        var e = Assert.Throws<InvalidOperationException>(() => InheritedSockets.ValidateControl(new ChildMarker(1, fd)));

        Assert.Contains("is not the master's control channel", e.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public async Task TakeAsync_SourceGivesAListeningSocket_ReturnsItForTheEndpoint()
    {
        var (sockets, source) = Sockets();
        var request = new SocketRequest("127.0.0.1:0", "Web", "s");

        var taken = await TakeAsync(sockets, request);

        Assert.Equal("127.0.0.1:0", taken.Endpoint);
        Assert.Equal(_listener.LocalEndPoint, LocalOf(taken.Fd));
        Assert.Equal([request], source.Requests);
        Assert.Equal(1, sockets.Count);
    }

    [LinuxFact]
    public async Task TakeAsync_UnixListener_Accepted()
    {
        string path = Path.Combine(Path.GetTempPath(), $"gh-{Guid.NewGuid():N}.sock");
        try
        {
            using var unix = ListeningUnix(path);
            var (sockets, _) = Sockets(_ => Duplicate(unix));

            var taken = await TakeAsync(sockets, new SocketRequest("unix:" + path, null, "s"));

            Assert.Equal(path, LocalOf(taken.Fd)!.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [LinuxFact]
    public async Task TakeAsync_SourceRefuses_ThrowsWhatTheSourceThrew()
    {
        var refusal = new AddressInUseException("Cannot listen on 127.0.0.1:1 for s: the address is already in use by another process.");
        var (sockets, _) = Sockets(_ => throw refusal);

        var e = await Assert.ThrowsAsync<AddressInUseException>(() => sockets.TakeAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask());

        Assert.Same(refusal, e);
        Assert.Equal(0, sockets.Count);
    }

    [LinuxFact]
    public async Task TakeAsync_SourceGivesANonListeningSocket_ThrowsNamingTheSourceAndEndpoint()
    {
        var bound = Own(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int fd = -1;
        var (sockets, _) = Sockets(_ => fd = Duplicate(bound));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => sockets.TakeAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask());

        Assert.Equal($"the socket the test passed for 127.0.0.1:1 (fd {fd}) is a socket that is not listening.", e.Message);
        Assert.Equal(0, sockets.Count);
    }

    [LinuxFact]
    public async Task TakeAsync_SourceGivesAUdpSocket_ThrowsNotAStreamSocket()
    {
        var udp = Own(new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var (sockets, _) = Sockets(_ => Duplicate(udp));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => sockets.TakeAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask());

        Assert.EndsWith("is not a TCP or Unix domain stream socket.", e.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public async Task TakeAsync_SameEndpointAfterReturn_ReusesTheSocketWithoutAskingAgain()
    {
        var (sockets, source) = Sockets();
        var request = new SocketRequest("127.0.0.1:0", null, "s");
        var first = await TakeAsync(sockets, request);

        sockets.Return(first);
        var again = await sockets.TakeAsync(request, CancellationToken.None);

        Assert.Same(first, again);
        Assert.Single(source.Requests);
        Assert.Equal(1, sockets.Count);
    }

    [LinuxFact]
    public async Task TakeAsync_OtherEndpointAfterReturn_AsksTheSource()
    {
        var (sockets, source) = Sockets();
        var first = await TakeAsync(sockets, new SocketRequest("127.0.0.1:0", null, "s"));
        sockets.Return(first);

        var other = await TakeAsync(sockets, new SocketRequest("unix:/run/other.sock", null, "s"));

        Assert.NotEqual(first.Fd, other.Fd);
        Assert.Equal(2, source.Requests.Count);
    }

    [LinuxFact]
    public async Task Return_SameSocketTwice_KeptOnce()
    {
        var (sockets, source) = Sockets();
        var request = new SocketRequest("127.0.0.1:0", null, "s");
        var first = await TakeAsync(sockets, request);

        sockets.Return(first);
        sockets.Return(first);
        await sockets.TakeAsync(request, CancellationToken.None);
        var second = await TakeAsync(sockets, request);

        Assert.NotEqual(first.Fd, second.Fd);
        Assert.Equal(2, source.Requests.Count);
    }

    [LinuxFact]
    public async Task Return_AfterClose_NotKept()
    {
        var (sockets, source) = Sockets();
        var request = new SocketRequest("127.0.0.1:0", null, "s");
        var first = await TakeAsync(sockets, request);
        sockets.Close(first.Fd);
        _taken.Remove(first.Fd);

        sockets.Return(first);
        await TakeAsync(sockets, request);

        Assert.Equal(2, source.Requests.Count);
    }

    private (InheritedSockets Sockets, FakeListenSocketSource Source) Sockets(Func<SocketRequest, int>? answer = null)
    {
        var source = new FakeListenSocketSource(answer ?? (_ => Duplicate(_listener)));
        return (new InheritedSockets(new ChildMarker(1, 3), source), source);
    }

    private async Task<InheritedListener> TakeAsync(InheritedSockets sockets, SocketRequest request)
    {
        var taken = await sockets.TakeAsync(request, CancellationToken.None);
        if (!_taken.Contains(taken.Fd))
        {
            _taken.Add(taken.Fd);
        }

        return taken;
    }

    private T Own<T>(T item)
        where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }
}

/// <summary>Checks that descriptors were closed by number; they run alone so no other test reuses a number meanwhile.</summary>
[SupportedOSPlatform("linux")]
[Collection(DescriptorCollection.Name)]
public sealed class InheritedSocketsCloseTests : IDisposable
{
    private readonly Socket _listener = ListeningTcp();

    public void Dispose() => _listener.Dispose();

    [LinuxFact]
    public async Task TakeAsync_NotAListeningSocket_ClosesIt()
    {
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int fd = Duplicate(bound);
        var sockets = new InheritedSockets(new ChildMarker(1, 3), new FakeListenSocketSource(_ => fd));

        await Assert.ThrowsAsync<InvalidOperationException>(() => sockets.TakeAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask());

        Assert.Equal(-1, Libc.GetDescriptorFlags(fd));
    }

    [LinuxFact]
    public async Task CloseReturned_OneReturned_ClosesOnlyThatOne()
    {
        var sockets = new InheritedSockets(new ChildMarker(1, 3), new FakeListenSocketSource(_ => Duplicate(_listener)));
        var kept = await sockets.TakeAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None);
        var returned = await sockets.TakeAsync(new SocketRequest("127.0.0.1:2", null, "s"), CancellationToken.None);
        sockets.Return(returned);

        sockets.CloseReturned();

        Assert.Equal(-1, Libc.GetDescriptorFlags(returned.Fd));
        Assert.True(IsListening(kept.Fd));
        sockets.Close(kept.Fd);
        Assert.Equal(-1, Libc.GetDescriptorFlags(kept.Fd));
        Assert.True(IsListening(Fd(_listener)), "close(2) leaves the other copies listening");
    }

    [LinuxFact]
    public async Task CloseReturned_ReturnedThenTakenAgain_LeavesIt()
    {
        var sockets = new InheritedSockets(new ChildMarker(1, 3), new FakeListenSocketSource(_ => Duplicate(_listener)));
        var request = new SocketRequest("127.0.0.1:1", null, "s");
        var taken = await sockets.TakeAsync(request, CancellationToken.None);
        sockets.Return(taken);
        await sockets.TakeAsync(request, CancellationToken.None);

        sockets.CloseReturned();

        Assert.True(IsListening(taken.Fd));
        sockets.Close(taken.Fd);
    }

    [LinuxFact]
    public void Close_SameFdTwice_ClosesOnce()
    {
        Assert.Equal(0, Libc.CreateSeqPacketPair(out int fd, out int peer));
        var sockets = new InheritedSockets(new ChildMarker(1, 3), new FakeListenSocketSource(_ => -1));
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

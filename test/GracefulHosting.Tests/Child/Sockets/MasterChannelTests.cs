using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Interop;
using GracefulHosting.Protocol;
using Microsoft.AspNetCore.Connections;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Child.Sockets;

/// <summary>The child's end of a real SOCK_SEQPACKET pair; the test plays the master on the other end.</summary>
[SupportedOSPlatform("linux")]
public sealed class MasterChannelTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly MasterChannel _channel;
    private readonly Socket _listener = ListeningTcp();
    private readonly List<int> _received = [];
    private int _master;

    public MasterChannelTests()
    {
        Assert.Equal(0, Libc.CreateSeqPacketPair(out int child, out _master));
        _channel = new MasterChannel(child);
    }

    public void Dispose()
    {
        _channel.Dispose();
        if (_master >= 0)
        {
            // Wakes a receive that still waits on the master's end.
            UnixMessages.Shutdown(_master);
        }

        CloseMaster();
        foreach (int fd in _received)
        {
            Libc.Close(fd);
        }

        _listener.Dispose();
    }

    [LinuxFact]
    public async Task AcquireAsync_MasterGrants_SendsAListenPacketAndReturnsThePassedDescriptor()
    {
        var request = new SocketRequest("127.0.0.1:0", "Web", "Kestrel:Endpoints:Web:Url = 'http://127.0.0.1:0'");

        var acquire = _channel.AcquireAsync(request, CancellationToken.None).AsTask();
        string packet = await ReceiveAsync();
        Reply("OK\t127.0.0.1:0", Fd(_listener));
        int fd = Keep(await acquire.WaitAsync(Timeout));

        Assert.Equal(request.Format(), packet);
        Assert.Equal(request, SocketRequest.Parse(packet));
        Assert.NotEqual(Fd(_listener), fd);
        Assert.True(IsListening(fd));
        Assert.True(IsCloseOnExec(fd));
        Assert.Equal(_listener.LocalEndPoint, LocalOf(fd));
    }

    [LinuxFact]
    public async Task RestartNotice_WhileARequestWaits_RecordedAndNotTakenForTheReply()
    {
        var acquire = _channel.AcquireAsync(new SocketRequest("127.0.0.1:0", null, "s"), CancellationToken.None).AsTask();
        await ReceiveAsync();

        Reply(MasterChannel.RestartNotice);
        await WaitUntilAsync(() => _channel.RestartAnnounced);
        Assert.False(acquire.IsCompleted, "the notice is no reply");
        Reply("OK\t127.0.0.1:0", Fd(_listener));
        int fd = Keep(await acquire.WaitAsync(Timeout));

        Assert.Equal(_listener.LocalEndPoint, LocalOf(fd));
    }

    [LinuxFact]
    public void RestartAnnounced_NoNotice_False()
    {
        Assert.False(_channel.RestartAnnounced);
    }

    [LinuxFact]
    public async Task AcquireAsync_SeveralInTurn_EachGetsItsOwnReply()
    {
        using var second = ListeningTcp();

        var first = _channel.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask();
        Assert.StartsWith("LISTEN\t127.0.0.1:1\t", await ReceiveAsync(), StringComparison.Ordinal);
        Reply("OK\t127.0.0.1:1", Fd(_listener));
        int firstFd = Keep(await first.WaitAsync(Timeout));
        var next = _channel.AcquireAsync(new SocketRequest("127.0.0.1:2", null, "s"), CancellationToken.None).AsTask();
        Assert.StartsWith("LISTEN\t127.0.0.1:2\t", await ReceiveAsync(), StringComparison.Ordinal);
        Reply("OK\t127.0.0.1:2", Fd(second));
        int nextFd = Keep(await next.WaitAsync(Timeout));

        Assert.Equal(_listener.LocalEndPoint, LocalOf(firstFd));
        Assert.Equal(second.LocalEndPoint, LocalOf(nextFd));
    }

    [LinuxFact]
    public async Task AcquireAsync_RefusedAsInUse_ThrowsAddressInUseExceptionWithTheMastersMessage()
    {
        var acquire = _channel.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask();
        await ReceiveAsync();
        Reply("ERR\tinuse\tCannot listen on 127.0.0.1:1 for s: the address is already in use by another process.");

        var e = await Assert.ThrowsAsync<AddressInUseException>(() => acquire.WaitAsync(Timeout));

        Assert.Equal("Cannot listen on 127.0.0.1:1 for s: the address is already in use by another process.", e.Message);
    }

    [LinuxFact]
    public async Task AcquireAsync_RefusedForAnotherCause_ThrowsInvalidOperationExceptionWithTheMastersMessage()
    {
        var acquire = _channel.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask();
        await ReceiveAsync();
        Reply("ERR\tother\tKestrel asked for 127.0.0.1:1 (s), but systemd passed no socket for it.");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => acquire.WaitAsync(Timeout));

        Assert.Equal("Kestrel asked for 127.0.0.1:1 (s), but systemd passed no socket for it.", e.Message);
    }

    [LinuxFact]
    public async Task AcquireAsync_GrantedWithoutDescriptor_ThrowsSayingSo()
    {
        var acquire = _channel.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask();
        await ReceiveAsync();
        Reply("OK\t127.0.0.1:1");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => acquire.WaitAsync(Timeout));

        Assert.Equal("the master answered for 127.0.0.1:1 without a descriptor", e.Message);
    }

    [LinuxFact]
    public async Task AcquireAsync_RefusedWithADescriptorAttached_ThrowsTheRefusal()
    {
        var acquire = _channel.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask();
        await ReceiveAsync();
        Reply("ERR\tother\tno", Fd(_listener));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => acquire.WaitAsync(Timeout));
        Assert.Equal("no", e.Message);
    }

    [LinuxFact]
    public async Task AcquireAsync_UnreadableReply_FailsInsteadOfHanging()
    {
        var acquire = _channel.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask();
        await ReceiveAsync();
        Reply("garbage");

        await Assert.ThrowsAsync<InvalidOperationException>(() => acquire.WaitAsync(Timeout));
    }

    [LinuxFact]
    public async Task Closed_MasterClosesItsEnd_Completes()
    {
        Assert.False(_channel.Closed.IsCompleted);

        CloseMaster();

        await _channel.Closed.WaitAsync(Timeout);
    }

    [LinuxFact]
    public async Task AcquireAsync_MasterGoneWhileWaiting_FailsInsteadOfHanging()
    {
        var acquire = _channel.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask();
        await ReceiveAsync();

        CloseMaster();

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => acquire.WaitAsync(Timeout));
        Assert.Equal("Cannot get a socket for 127.0.0.1:1: the master's control channel is closed.", e.Message);
    }

    [LinuxFact]
    public async Task AcquireAsync_AfterTheMasterClosed_FailsAtOnce()
    {
        CloseMaster();
        await _channel.Closed.WaitAsync(Timeout);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _channel.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "s"), CancellationToken.None).AsTask().WaitAsync(Timeout));

        Assert.Equal("Cannot get a socket for 127.0.0.1:1: the master's control channel is closed.", e.Message);
    }

    [LinuxFact]
    public async Task AcquireAsync_CancelledWhileWaiting_ThrowsOperationCanceledOnceAnswered()
    {
        using var cancel = new CancellationTokenSource();
        var acquire = _channel.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "s"), cancel.Token).AsTask();
        await ReceiveAsync();

        await cancel.CancelAsync();
        Assert.False(acquire.IsCompleted, "the answer to a request already sent is awaited, so it is not taken for the next one");
        Assert.Equal(0, UnixMessages.Send(_master, Encoding.UTF8.GetBytes("ERR\tother\tno")));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => acquire.WaitAsync(Timeout));
    }

    [LinuxFact]
    public async Task Send_ReadyLines_TheMasterReceivesThemAsOnePacket()
    {
        Assert.Null(_channel.Send("READY=1\nSTATUS=Serving\n"));

        Assert.Equal("READY=1\nSTATUS=Serving\n", await ReceiveAsync());
    }

    [LinuxFact]
    public async Task Send_MasterGone_ReturnsTheError()
    {
        CloseMaster();
        await _channel.Closed.WaitAsync(Timeout);

        Assert.StartsWith("errno ", _channel.Send("READY=1\n"), StringComparison.Ordinal);
    }

    [LinuxFact]
    public async Task Dispose_WhileReading_ClosedCompletes()
    {
        _channel.Dispose();

        await _channel.Closed.WaitAsync(Timeout);
    }

    [LinuxFact]
    public void Name_Always_TheMaster()
    {
        Assert.Equal("the master", _channel.Name);
    }

    /// <summary>The next packet the child sent to the master.</summary>
    private async Task<string> ReceiveAsync()
    {
        int master = _master;
        var buffer = new byte[64 * 1024];
        int read = await Task.Run(() =>
        {
            int length = UnixMessages.Receive(master, buffer, out int fd);
            Assert.Equal(-1, fd);
            return length;
        }).WaitAsync(Timeout);
        Assert.True(read > 0, $"receive returned {read}");
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(10);
        }
    }

    private void Reply(string packet, int fd = -1) =>
        Assert.Equal(0, UnixMessages.Send(_master, Encoding.UTF8.GetBytes(packet), fd));

    private int Keep(int fd)
    {
        _received.Add(fd);
        return fd;
    }

    /// <summary>Closes the master's end once, as the kernel does when the master dies.</summary>
    private void CloseMaster()
    {
        if (_master >= 0)
        {
            Libc.Close(_master);
            _master = -1;
        }
    }
}

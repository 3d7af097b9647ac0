using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Interop;
using GracefulHosting.Protocol;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Child.Sockets;

[SupportedOSPlatform("linux")]
public sealed class MasterChannelLateReplyTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly MasterChannel _channel;
    private readonly Socket _first = ListeningTcp();
    private readonly Socket _second = ListeningTcp();
    private readonly List<int> _received = [];
    private readonly int _master;

    public MasterChannelLateReplyTests()
    {
        Assert.Equal(0, Libc.CreateSeqPacketPair(out int child, out _master));
        _channel = new MasterChannel(child);
    }

    public void Dispose()
    {
        _channel.Dispose();
        UnixMessages.Shutdown(_master);
        Libc.Close(_master);
        foreach (int fd in _received)
        {
            Libc.Close(fd);
        }

        _first.Dispose();
        _second.Dispose();
    }

    /// <remarks>
    /// Kestrel cancelled its bind after the request went out. The master still answers it; that answer
    /// must end the cancelled request (its descriptor closed), not complete the next one.
    /// </remarks>
    [LinuxFact]
    public async Task AcquireAsync_CancelledAfterAsking_ItsLateAnswerIsNotTakenForTheNextRequest()
    {
        using var cancel = new CancellationTokenSource();
        var cancelled = _channel.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "s"), cancel.Token).AsTask();
        Assert.StartsWith("LISTEN\t127.0.0.1:1\t", await ReceiveAsync(), StringComparison.Ordinal);
        await cancel.CancelAsync();

        var next = _channel.AcquireAsync(new SocketRequest("127.0.0.1:2", null, "s"), CancellationToken.None).AsTask();
        Reply("OK\t127.0.0.1:1", Fd(_first));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Timeout));
        Assert.StartsWith("LISTEN\t127.0.0.1:2\t", await ReceiveAsync(), StringComparison.Ordinal);
        Reply("OK\t127.0.0.1:2", Fd(_second));
        int fd = await next.WaitAsync(Timeout);
        _received.Add(fd);

        Assert.Equal(_second.LocalEndPoint, LocalOf(fd));
    }

    [LinuxFact]
    public async Task AcquireAsync_AnswerForAnotherEndpoint_RefusedWithItsDescriptorClosed()
    {
        var asked = _channel.AcquireAsync(new SocketRequest("127.0.0.1:2", null, "s"), CancellationToken.None).AsTask();
        Assert.StartsWith("LISTEN\t127.0.0.1:2\t", await ReceiveAsync(), StringComparison.Ordinal);
        Reply("OK\t127.0.0.1:1", Fd(_first));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => asked.WaitAsync(Timeout));
        Assert.Contains("answered for 127.0.0.1:1 when asked for 127.0.0.1:2", error.Message, StringComparison.Ordinal);
    }

    private async Task<string> ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        int read = await Task.Run(() => UnixMessages.Receive(_master, buffer, out _)).WaitAsync(Timeout);
        Assert.True(read > 0);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private void Reply(string packet, int fd) =>
        Assert.Equal(0, UnixMessages.Send(_master, Encoding.UTF8.GetBytes(packet), fd));
}

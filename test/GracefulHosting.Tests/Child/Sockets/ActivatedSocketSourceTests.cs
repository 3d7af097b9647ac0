using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Interop;
using GracefulHosting.Master.Sockets;
using GracefulHosting.Protocol;
using GracefulHosting.Systemd;
using Microsoft.Extensions.Logging.Abstractions;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Child.Sockets;

/// <summary>Direct mode: systemd's sockets (real listening sockets of 127.0.0.1 the test owns, passed as duplicates).</summary>
[SupportedOSPlatform("linux")]
public sealed class ActivatedSocketSourceTests : IDisposable
{
    private readonly Socket _web = ListeningTcp();
    private readonly Socket _other = ListeningTcp();
    private readonly int _webFd;
    private readonly ActivatedSocketSource _source;
    private readonly List<int> _acquired = [];

    public ActivatedSocketSourceTests()
    {
        _webFd = Duplicate(_web);
        var activation = new SocketActivation([new ActivatedSocket(_webFd, "Web"), new ActivatedSocket(Duplicate(_other), null)]);
        _source = new ActivatedSocketSource(SocketTable.ForActivation(activation, NullLogger.Instance));
    }

    public void Dispose()
    {
        foreach (int fd in _acquired)
        {
            Libc.Close(fd);
        }

        _source.Dispose();
        _web.Dispose();
        _other.Dispose();
    }

    [LinuxFact]
    public async Task AcquireAsync_MatchingSocket_ADuplicateOfItsOwn()
    {
        int fd = await _source.AcquireAsync(new SocketRequest($"127.0.0.1:{Port(_other)}", "web", "s"), CancellationToken.None);
        _acquired.Add(fd);

        Assert.NotEqual(_webFd, fd);
        Assert.True(IsCloseOnExec(fd));
        Assert.Equal(_web.LocalEndPoint, LocalOf(fd));
    }

    [LinuxFact]
    public async Task AcquireAsync_NoSocketFits_ThrowsSayingSystemdPassedNone()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _source.AcquireAsync(new SocketRequest("127.0.0.1:1", null, "urls = 'http://127.0.0.1:1'"), CancellationToken.None).AsTask());

        Assert.StartsWith("Kestrel asked for 127.0.0.1:1 (urls = 'http://127.0.0.1:1'), but systemd passed no socket for it", e.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Urls_SystemdSockets_TheirPlainHttpUrls()
    {
        Assert.Equal("systemd", _source.Name);
        Assert.Equal([$"http://127.0.0.1:{Port(_web)}", $"http://127.0.0.1:{Port(_other)}"], _source.Urls);
    }

    [LinuxFact]
    public async Task AcquireAsync_SameEndpointAfterServing_NotGivenTwice()
    {
        var request = new SocketRequest($"127.0.0.1:{Port(_other)}", null, "s");
        _acquired.Add(await _source.AcquireAsync(request, CancellationToken.None));
        _source.Serving([$"http://127.0.0.1:{Port(_other)}"]);

        await Assert.ThrowsAsync<InvalidOperationException>(() => _source.AcquireAsync(request, CancellationToken.None).AsTask());
    }
}

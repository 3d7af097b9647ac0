using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Child;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Tests.Child;

[SupportedOSPlatform("linux")]
public sealed class InheritedListenerFactoryTests
{
    private readonly RecordingTransport _transport = new();
    private readonly DrainState _drain = new();

    [LinuxFact]
    public async Task BindAsync_EndpointTheMasterPassed_KestrelsTransportGetsItsDescriptor()
    {
        var factory = Factory(new InheritedListener(10, "127.0.0.1:8080"), new InheritedListener(11, "unix:/run/app.sock"));

        await factory.BindAsync(new UnixDomainSocketEndPoint("/run/app.sock"));
        await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080));

        Assert.Equal([(11UL, FileHandleType.Auto), (10UL, FileHandleType.Tcp)],
            _transport.Bound.Select(e => ((FileHandleEndPoint)e).FileHandle).Zip(_transport.Bound.Select(e => ((FileHandleEndPoint)e).FileHandleType)));
    }

    [LinuxFact]
    public async Task BindAsync_EndpointWithoutSocket_ThrowsNamingItAndWhatWasPassed()
    {
        var factory = Factory(new InheritedListener(10, "127.0.0.1:8080"));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => factory.BindAsync(new IPEndPoint(IPAddress.IPv6Loopback, 8080)).AsTask());

        Assert.StartsWith("Kestrel asked for [::1]:8080, but the master passed no socket for it (passed: 127.0.0.1:8080).", e.Message, StringComparison.Ordinal);
        Assert.Empty(_transport.Bound);
    }

    [LinuxFact]
    public async Task BindAsync_DirectModeWithoutSocket_SaysSystemdPassedNone()
    {
        var factory = Factory(controlFd: -1, new InheritedListener(3, "127.0.0.1:8080"));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 1)).AsTask());

        Assert.Equal("Kestrel asked for 127.0.0.1:1, but systemd passed no socket for it (passed: 127.0.0.1:8080).", e.Message);
    }

    [LinuxFact]
    public async Task BindAsync_NamedPipe_LeftToKestrelsTransport()
    {
        var factory = Factory(new InheritedListener(10, "127.0.0.1:8080"));

        await factory.BindAsync(new NamedPipeEndPoint("pipe"));

        Assert.IsType<NamedPipeEndPoint>(Assert.Single(_transport.Bound));
    }

    [LinuxFact]
    public async Task UnbindAsync_OutsideDrain_SocketGoesBackSoKestrelCanBindItAgain()
    {
        var sockets = new InheritedSockets(new ChildMarker(1, 3, [new InheritedListener(10, "127.0.0.1:8080")]));
        var factory = Factory(sockets);
        var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080));

        await listener.UnbindAsync();
        await listener.DisposeAsync();

        Assert.Equal([10], sockets.Unclaimed.Select(l => l.Fd));
        await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080));
        Assert.Empty(sockets.Unclaimed);
    }

    private InheritedListenerFactory Factory(params InheritedListener[] listeners) => Factory(3, listeners);

    private InheritedListenerFactory Factory(int controlFd, params InheritedListener[] listeners) =>
        Factory(new InheritedSockets(new ChildMarker(1, controlFd, listeners)));

    private InheritedListenerFactory Factory(InheritedSockets sockets) =>
        new(_transport, sockets, new ChildListeners(), _drain, new ChildWarmup(enabled: false));

    private sealed class RecordingTransport : IConnectionListenerFactory
    {
        public List<EndPoint> Bound { get; } = [];

        public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        {
            Bound.Add(endpoint);
            return ValueTask.FromResult<IConnectionListener>(new Listener(endpoint));
        }

        private sealed class Listener(EndPoint endpoint) : IConnectionListener
        {
            public EndPoint EndPoint => endpoint;

            public ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<ConnectionContext?>(null);

            public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}

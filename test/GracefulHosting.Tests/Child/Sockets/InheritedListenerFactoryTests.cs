using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Child;
using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Child.Warmup;
using GracefulHosting.Endpoints;
using GracefulHosting.Interop;
using GracefulHosting.Protocol;
using GracefulHosting.Tests.Endpoints;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Child.Sockets;

[SupportedOSPlatform("linux")]
public sealed class InheritedListenerFactoryTests : IDisposable
{
    private readonly RecordingTransport _transport = new();
    private readonly DrainState _drain = new();
    private readonly ChildListeners _listeners = new();
    private readonly Socket _listener = ListeningTcp();
    private readonly List<int> _given = [];
    private readonly FakeListenSocketSource _source;
    private readonly InheritedSockets _sockets;

    public InheritedListenerFactoryTests()
    {
        _source = new FakeListenSocketSource(_ =>
        {
            int fd = Duplicate(_listener);
            _given.Add(fd);
            return fd;
        });
        _sockets = new InheritedSockets(new ChildMarker(1, 3), _source);
    }

    public void Dispose()
    {
        foreach (int fd in _given)
        {
            Libc.Close(fd);
        }

        _listener.Dispose();
    }

    [LinuxFact]
    public async Task BindAsync_AddressAndUnixPath_KestrelsTransportGetsTheDescriptorsTheSourceGave()
    {
        var factory = Factory();

        await factory.BindAsync(new UnixDomainSocketEndPoint("/run/app.sock"));
        await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080));

        Assert.Equal(["unix:/run/app.sock", "127.0.0.1:8080"], _source.Requests.Select(r => r.Endpoint));
        Assert.Equal([((ulong)_given[0], FileHandleType.Auto), ((ulong)_given[1], FileHandleType.Tcp)],
            _transport.Bound.Cast<FileHandleEndPoint>().Select(e => (e.FileHandle, e.FileHandleType)));
        Assert.Equal(_given, _listeners.Snapshot().Select(l => l.Fd));
    }

    [LinuxFact]
    public async Task BindAsync_Endpoints_RequestCarriesTheKestrelEndpointsNameAndSetting()
    {
        var settings = EndpointSettings.From(
            TestSettings.Kestrel(("Endpoints:Web:Url", "http://127.0.0.1:8080")),
            TestSettings.Hosting("http://unix:/run/app.sock"));
        var factory = Factory(settings);

        await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080));
        await factory.BindAsync(new UnixDomainSocketEndPoint("/run/app.sock"));
        await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 9));

        Assert.Equal(
        [
            new SocketRequest("127.0.0.1:8080", "Web", "Kestrel:Endpoints:Web:Url = 'http://127.0.0.1:8080'"),
            new SocketRequest("unix:/run/app.sock", null, "urls = 'http://unix:/run/app.sock'"),
            new SocketRequest("127.0.0.1:9", null, "an endpoint set in code"),
        ], _source.Requests);
    }

    [LinuxFact]
    public async Task BindAsync_ListenHandle_AsksForTheDescriptorAndKeepsItsType()
    {
        var factory = Factory();

        await factory.BindAsync(new FileHandleEndPoint(7, FileHandleType.Tcp));

        Assert.Equal("fd:7", Assert.Single(_source.Requests).Endpoint);
        var bound = Assert.IsType<FileHandleEndPoint>(Assert.Single(_transport.Bound));
        Assert.Equal(((ulong)_given[0], FileHandleType.Tcp), (bound.FileHandle, bound.FileHandleType));
    }

    [LinuxFact]
    public async Task BindAsync_SourceRefuses_ThrowsWhatTheSourceThrewAndBindsNothing()
    {
        var refusal = new AddressInUseException("Cannot listen on 127.0.0.1:8080 for s: the address is already in use by another process.");
        _source.Answer = _ => throw refusal;
        var factory = Factory();

        var e = await Assert.ThrowsAsync<AddressInUseException>(() => factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080)).AsTask());

        Assert.Same(refusal, e);
        Assert.Empty(_transport.Bound);
        Assert.Empty(_listeners.Snapshot());
    }

    [LinuxFact]
    public async Task BindAsync_NamedPipe_LeftToKestrelsTransport()
    {
        var factory = Factory();

        await factory.BindAsync(new NamedPipeEndPoint("pipe"));

        Assert.IsType<NamedPipeEndPoint>(Assert.Single(_transport.Bound));
        Assert.Empty(_source.Requests);
    }

    [LinuxFact]
    public void CanBind_EndpointsTheMasterHandsOver_True()
    {
        var factory = Factory();

        Assert.True(factory.CanBind(new IPEndPoint(IPAddress.Loopback, 1)));
        Assert.True(factory.CanBind(new UnixDomainSocketEndPoint("/run/app.sock")));
        Assert.True(factory.CanBind(new FileHandleEndPoint(3, FileHandleType.Auto)));
    }

    [LinuxFact]
    public async Task UnbindAsync_OutsideDrain_SocketGoesBackSoKestrelBindsItAgainWithoutAsking()
    {
        var factory = Factory();
        var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080));

        await listener.UnbindAsync();
        await listener.DisposeAsync();
        await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080));

        Assert.Single(_source.Requests);
        Assert.Equal([(ulong)_given[0], (ulong)_given[0]], _transport.Bound.Cast<FileHandleEndPoint>().Select(e => e.FileHandle));
        Assert.True(IsListening(_given[0]));
    }

    [LinuxFact]
    public async Task BindAsync_KestrelsTransportFails_SocketGoesBackForTheNextBind()
    {
        var factory = Factory();
        _transport.Failure = new InvalidOperationException("transport failed");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080)).AsTask());
        _transport.Failure = null;
        await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080));

        Assert.Equal("transport failed", e.Message);
        Assert.Single(_source.Requests);
        Assert.Equal((ulong)_given[0], ((FileHandleEndPoint)_transport.Bound[^1]).FileHandle);
    }

    [LinuxFact]
    public async Task BindAsync_SameEndpointTwice_EachListenerCarriesWhatTheProbeFoundForItsOccurrence()
    {
        var protocols = new EndpointProtocols();
        protocols.Record(new Dictionary<(string, int), HttpProtocols> { [("127.0.0.1:0", 1)] = HttpProtocols.Http2 });
        var factory = Factory(protocols: protocols);

        await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));

        Assert.Equal([null, HttpProtocols.Http2], _listeners.Snapshot().Select(l => l.PlainProtocols));
    }

    private InheritedListenerFactory Factory(EndpointSettings? settings = null, EndpointProtocols? protocols = null) =>
        new(_transport, _sockets, _listeners, _drain, new ChildWarmup(enabled: false),
            () => settings ?? EndpointSettings.From(null, TestSettings.Hosting()), protocols ?? new EndpointProtocols());
}

/// <summary>Unbinding while draining closes the descriptor, checked by number; runs alone so no other test reuses it.</summary>
[SupportedOSPlatform("linux")]
[Collection(DescriptorCollection.Name)]
public sealed class InheritedListenerFactoryDrainTests : IDisposable
{
    private readonly Socket _listener = ListeningTcp();

    public void Dispose() => _listener.Dispose();

    [LinuxFact]
    public async Task UnbindAsync_WhileDraining_ClosesTheSocketAndKeepsItFromTheNextBind()
    {
        var fds = new List<int>();
        var source = new FakeListenSocketSource(_ =>
        {
            fds.Add(Duplicate(_listener));
            return fds[^1];
        });
        var sockets = new InheritedSockets(new ChildMarker(1, 3), source);
        var drain = new DrainState();
        var transport = new RecordingTransport();
        var factory = new InheritedListenerFactory(transport, sockets, new ChildListeners(), drain, new ChildWarmup(enabled: false),
            () => EndpointSettings.From(null, TestSettings.Hosting()), new EndpointProtocols());
        var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080));
        drain.BeginDraining();

        await listener.UnbindAsync();
        await listener.DisposeAsync();

        Assert.Equal(-1, Libc.GetDescriptorFlags(fds[0]));
        Assert.True(IsListening(Fd(_listener)), "close(2) leaves the master's copy listening");
    }
}

/// <summary>Kestrel's transport as the factory sees it: records each endpoint it is asked to bind.</summary>
internal sealed class RecordingTransport : IConnectionListenerFactory
{
    public List<EndPoint> Bound { get; } = [];

    public Exception? Failure { get; set; }

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (Failure is not null)
        {
            return ValueTask.FromException<IConnectionListener>(Failure);
        }

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

using System.Net;
using System.Runtime.Versioning;
using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Warmup;
using GracefulHosting.Endpoints;
using GracefulHosting.Protocol;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Child.Sockets;

// Kestrel binds each endpoint on a socket from the master, as a FileHandleEndPoint, so HTTPS and endpoint options stay Kestrel's.
[SupportedOSPlatform("linux")]
internal sealed class InheritedListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly IConnectionListenerFactory _inner;
    private readonly InheritedSockets _sockets;
    private readonly ChildListeners _listeners;
    private readonly DrainState _drain;
    private readonly ChildWarmup _warmup;
    private readonly Lazy<EndpointSettings> _settings;
    private readonly EndpointProtocols _protocols;
    // How often each endpoint was asked for, to tell apart entries that ask for the same one (port 0).
    private readonly Dictionary<string, int> _asked = [];

    public InheritedListenerFactory(IConnectionListenerFactory inner, InheritedSockets sockets, ChildListeners listeners, DrainState drain, ChildWarmup warmup,
        Func<EndpointSettings> settings, EndpointProtocols protocols)
    {
        _inner = inner;
        _sockets = sockets;
        _listeners = listeners;
        _drain = drain;
        _warmup = warmup;
        _settings = new Lazy<EndpointSettings>(settings);
        _protocols = protocols;
    }

    public bool CanBind(EndPoint endpoint) =>
        EndpointText.Format(endpoint) is not null ||
        _inner is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    // A refusal throws as a failed bind would, so Kestrel skips what it would skip (the IPv6 half of localhost) and fails otherwise.
    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        string? text = EndpointText.Format(endpoint);
        if (text is null)
        {
            return await _inner.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }

        var settings = _settings.Value;
        int occurrence;
        lock (_asked)
        {
            occurrence = _asked.TryGetValue(text, out int count) ? count : 0;
            _asked[text] = occurrence + 1;
        }

        var socket = await _sockets.TakeAsync(new SocketRequest(text, settings.NameOf(text, occurrence), settings.Describe(text, occurrence)), cancellationToken)
            .ConfigureAwait(false);
        var handle = new FileHandleEndPoint((ulong)socket.Fd,
            endpoint is IPEndPoint ? FileHandleType.Tcp : (endpoint as FileHandleEndPoint)?.FileHandleType ?? FileHandleType.Auto);
        IConnectionListener inner;
        try
        {
            inner = await _inner.BindAsync(handle, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _sockets.Return(socket);
            throw;
        }

        var listener = new InheritedConnectionListener(inner, socket, _sockets, _drain, _warmup, _protocols.Of(text, occurrence));
        _listeners.Add(listener);
        return listener;
    }
}

using System.Net;
using System.Runtime.Versioning;
using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Warmup;
using GracefulHosting.Endpoints;
using GracefulHosting.Protocol;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Child.Sockets;

/// <summary>
/// Wraps Kestrel's transport so that each endpoint Kestrel asks for (an address, a Unix socket path
/// or a descriptor) is served on a socket from the master (or systemd in Direct mode), passed as a
/// <see cref="FileHandleEndPoint"/>, instead of a new bind. This generation's own Kestrel decides what it
/// binds; the master hands over the socket it holds for that endpoint or binds one. HTTPS, protocols and
/// every other per-endpoint option stay with Kestrel.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class InheritedListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly IConnectionListenerFactory _inner;
    private readonly InheritedSockets _sockets;
    private readonly ChildListeners _listeners;
    private readonly DrainState _drain;
    private readonly ChildWarmup _warmup;
    private readonly Lazy<EndpointSettings> _settings;
    // How often each endpoint was asked for, to tell apart entries that ask for the same one (port 0).
    private readonly Dictionary<string, int> _asked = [];

    /// <param name="inner">Kestrel's own transport, which serves on the descriptors.</param>
    /// <param name="sockets">Where the sockets come from.</param>
    /// <param name="listeners">The listeners bound, for the drain.</param>
    /// <param name="drain">The drain state.</param>
    /// <param name="warmup">The warm-up, before which listeners accept nothing real.</param>
    /// <param name="settings">The app's endpoint settings, read when Kestrel binds, to name each endpoint's setting.</param>
    public InheritedListenerFactory(IConnectionListenerFactory inner, InheritedSockets sockets, ChildListeners listeners, DrainState drain, ChildWarmup warmup,
        Func<EndpointSettings> settings)
    {
        _inner = inner;
        _sockets = sockets;
        _listeners = listeners;
        _drain = drain;
        _warmup = warmup;
        _settings = new Lazy<EndpointSettings>(settings);
    }

    /// <summary>Every endpoint the master hands over (TCP, Unix domain sockets, descriptors); others go to Kestrel's transport.</summary>
    public bool CanBind(EndPoint endpoint) =>
        EndpointText.Format(endpoint) is not null ||
        _inner is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    /// <exception cref="AddressInUseException">The address is in use by another process.</exception>
    /// <exception cref="InvalidOperationException">
    /// No socket for the endpoint (a bind error, or no systemd socket for it). Like a failed bind, Kestrel
    /// skips it where it would skip one (the IPv6 half of <c>localhost</c>, IPv6 before IPv4 for any
    /// address) and fails otherwise.
    /// </exception>
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

        var listener = new InheritedConnectionListener(inner, socket, _sockets, _drain, _warmup, settings.ProtocolsOf(text, occurrence));
        _listeners.Add(listener);
        return listener;
    }
}

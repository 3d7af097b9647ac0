using System.Net;
using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace GracefulHosting.Child;

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
    private readonly EndpointProtocols _protocols;
    // How often each endpoint was asked for, to tell apart entries that ask for the same one (port 0).
    private readonly Dictionary<string, int> _asked = [];

    /// <param name="inner">Kestrel's own transport, which serves on the descriptors.</param>
    /// <param name="sockets">Where the sockets come from.</param>
    /// <param name="listeners">The listeners bound, for the drain.</param>
    /// <param name="drain">The drain state.</param>
    /// <param name="warmup">The warm-up, before which listeners accept nothing real.</param>
    /// <param name="settings">The app's endpoint settings, read when Kestrel binds, to name each endpoint's setting.</param>
    /// <param name="protocols">What each plain endpoint speaks, as the probe found it before Kestrel binds.</param>
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

        var listener = new InheritedConnectionListener(inner, socket, _sockets, _drain, _warmup, _protocols.Of(text, occurrence));
        _listeners.Add(listener);
        return listener;
    }
}

/// <summary>
/// A Kestrel listener on an inherited socket. Until warm-up is done it hands Kestrel only the in-memory
/// warm-up connection, and no real one. Unbinding it while the child drains closes our copy of the
/// descriptor. Kestrel also unbinds endpoints when it reloads its configuration (a new certificate,
/// other protocols); the socket then goes back to the inherited ones, so that Kestrel binds it again
/// and clients never meet a closed port.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class InheritedConnectionListener : IConnectionListener
{
    private readonly IConnectionListener _inner;
    private readonly InheritedSockets _sockets;
    private readonly DrainState _drain;
    private readonly ChildWarmup _warmup;
    private readonly System.Threading.Channels.Channel<ConnectionContext> _injected =
        System.Threading.Channels.Channel.CreateUnbounded<ConnectionContext>();
    private readonly TaskCompletionSource _unbound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly InheritedListener _socket;
    private int _released;

    public InheritedConnectionListener(IConnectionListener inner, InheritedListener socket, InheritedSockets sockets, DrainState drain, ChildWarmup warmup,
        HttpProtocols? plainProtocols = null)
    {
        PlainProtocols = plainProtocols;
        _inner = inner;
        _socket = socket;
        _sockets = sockets;
        _drain = drain;
        _warmup = warmup;
    }

    public int Fd => _socket.Fd;

    /// <summary>What the endpoint speaks to a plain connection (<see cref="EndpointProtocols"/>); null when that is not known.</summary>
    public HttpProtocols? PlainProtocols { get; }

    /// <summary>Queues an in-memory connection for Kestrel to accept next.</summary>
    public void Inject(ConnectionContext connection) => _injected.Writer.TryWrite(connection);

    public EndPoint EndPoint => _inner.EndPoint;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (!_warmup.Done.IsCompleted && !_unbound.Task.IsCompleted)
        {
            var injected = _injected.Reader.WaitToReadAsync(cancellationToken).AsTask();
            await Task.WhenAny(injected, _warmup.Done, _unbound.Task).ConfigureAwait(false);
            if (_injected.Reader.TryRead(out var warmupConnection))
            {
                return warmupConnection;
            }
        }

        var connection = await _inner.AcceptAsync(cancellationToken).ConfigureAwait(false);
        if (connection is not null)
        {
            _drain.Track(connection);
        }

        return connection;
    }

    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _unbound.TrySetResult();
        await _inner.UnbindAsync(cancellationToken).ConfigureAwait(false);
        Release();
    }

    public async ValueTask DisposeAsync()
    {
        _unbound.TrySetResult();
        await _inner.DisposeAsync().ConfigureAwait(false);
        Release();
    }

    private void Release()
    {
        if (_drain.IsDraining)
        {
            _sockets.Close(Fd);
        }
        else if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _sockets.Return(_socket);
        }
    }
}

/// <summary>The listeners Kestrel bound on inherited sockets, so the child can stop them all at once.</summary>
[SupportedOSPlatform("linux")]
internal sealed class ChildListeners
{
    private readonly List<InheritedConnectionListener> _listeners = [];
    private readonly Lock _lock = new();

    public void Add(InheritedConnectionListener listener)
    {
        lock (_lock)
        {
            _listeners.Add(listener);
        }
    }

    /// <summary>The listeners bound so far, in the order Kestrel bound them.</summary>
    public IReadOnlyList<InheritedConnectionListener> Snapshot()
    {
        lock (_lock)
        {
            return [.. _listeners];
        }
    }

    public async Task UnbindAllAsync()
    {
        InheritedConnectionListener[] listeners;
        lock (_lock)
        {
            listeners = [.. _listeners];
        }

        foreach (var listener in listeners)
        {
            await listener.UnbindAsync().ConfigureAwait(false);
        }
    }
}

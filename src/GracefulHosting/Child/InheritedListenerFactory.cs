using System.Net;
using System.Runtime.Versioning;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Child;

/// <summary>
/// Wraps Kestrel's transport so that each configured address resolves to the socket inherited from
/// the master (<see cref="FileHandleEndPoint"/>) instead of a new bind. HTTPS, protocols and every
/// other per-endpoint option stay with Kestrel.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class InheritedListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly IConnectionListenerFactory _inner;
    private readonly InheritedSockets _sockets;
    private readonly ChildListeners _listeners;
    private readonly DrainState _drain;
    private readonly ChildWarmup _warmup;

    public InheritedListenerFactory(IConnectionListenerFactory inner, InheritedSockets sockets, ChildListeners listeners, DrainState drain, ChildWarmup warmup)
    {
        _inner = inner;
        _sockets = sockets;
        _listeners = listeners;
        _drain = drain;
        _warmup = warmup;
    }

    public bool CanBind(EndPoint endpoint) =>
        _inner is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint) ||
        endpoint is IPEndPoint;

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is FileHandleEndPoint handle && _sockets.TryTakeExtra((int)handle.FileHandle))
        {
            var extra = await _inner.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
            var extraListener = new InheritedConnectionListener(extra, (int)handle.FileHandle, _sockets, _drain, _warmup);
            _listeners.Add(extraListener);
            return extraListener;
        }

        if (endpoint is not IPEndPoint address)
        {
            return await _inner.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }

        if (!_sockets.TryTake(address, out int fd))
        {
            string passed = string.Join(", ", _sockets.Marker.Listeners.SelectMany(l => l.Addresses));
            throw new InvalidOperationException(
                $"Kestrel asked for {address}, but the master passed no socket for it (passed: {passed}). " +
                "The master binds the endpoints of the configuration it started with; restart the master to change them.");
        }

        var inner = await _inner.BindAsync(new FileHandleEndPoint((ulong)fd, FileHandleType.Tcp), cancellationToken).ConfigureAwait(false);
        var listener = new InheritedConnectionListener(inner, fd, _sockets, _drain, _warmup);
        _listeners.Add(listener);
        return listener;
    }
}

/// <summary>
/// A Kestrel listener on an inherited socket; unbinding it closes our copy of the descriptor. Until
/// warm-up is done it hands Kestrel only the in-memory warm-up connection, and no real one.
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

    public InheritedConnectionListener(IConnectionListener inner, int fd, InheritedSockets sockets, DrainState drain, ChildWarmup warmup)
    {
        _inner = inner;
        Fd = fd;
        _sockets = sockets;
        _drain = drain;
        _warmup = warmup;
    }

    public int Fd { get; }

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
        _sockets.Close(Fd);
    }

    public async ValueTask DisposeAsync()
    {
        _unbound.TrySetResult();
        await _inner.DisposeAsync().ConfigureAwait(false);
        _sockets.Close(Fd);
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

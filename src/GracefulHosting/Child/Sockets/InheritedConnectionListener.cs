using System.Net;
using System.Runtime.Versioning;
using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Warmup;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace GracefulHosting.Child.Sockets;

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
        HttpProtocols? declaredProtocols = null)
    {
        DeclaredProtocols = declaredProtocols;
        _inner = inner;
        _socket = socket;
        _sockets = sockets;
        _drain = drain;
        _warmup = warmup;
    }

    public int Fd => _socket.Fd;

    /// <summary>The endpoint's HTTP protocols as its configuration names them; null when only code may set them.</summary>
    public HttpProtocols? DeclaredProtocols { get; }

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

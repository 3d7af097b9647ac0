using System.Net;
using System.Runtime.Versioning;
using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Warmup;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace GracefulHosting.Child.Sockets;

// Until the warm-up is done, Kestrel gets only the in-memory warm-up connections from it, so no client meets a cold app.
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

    // What the endpoint speaks to a plain connection, as the endpoint probe found it; null when it could not tell.
    public HttpProtocols? PlainProtocols { get; }

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
            // Kestrel reloaded its configuration and binds the endpoint again: clients never meet a closed port.
            _sockets.Return(_socket);
        }
    }
}

using System.Net.WebSockets;

namespace GracefulHosting.Child.Drain;

// A WebSocket allows one send at a time: the app's sends and the library's close frame take turns on one semaphore.
internal sealed class TrackedWebSocket : WebSocket
{
    public const string CloseReason = "server restarting";

    private readonly WebSocket _inner;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private volatile bool _closedForRestart;

    public TrackedWebSocket(WebSocket inner) => _inner = inner;

    public bool ClosedForRestart => _closedForRestart;

    public override WebSocketCloseStatus? CloseStatus => _inner.CloseStatus;

    public override string? CloseStatusDescription => _inner.CloseStatusDescription;

    public override WebSocketState State => _inner.State;

    public override string? SubProtocol => _inner.SubProtocol;

    // Returns false if the app or the peer had started to close it.
    public async Task<bool> CloseForRestartAsync(CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_inner.State != WebSocketState.Open)
            {
                return false;
            }

            _closedForRestart = true;
            await _inner.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, CloseReason, cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _sending.Release();
        }
    }

    public override void Abort() => _inner.Abort();

    public override async Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // After the library's close frame the handshake may already be complete; a second close is moot.
            if (_closedForRestart && _inner.State is WebSocketState.Closed or WebSocketState.Aborted)
            {
                return;
            }

            await _inner.CloseAsync(closeStatus, statusDescription, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    public override async Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closedForRestart)
            {
                return;
            }

            await _inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
        _inner.ReceiveAsync(buffer, cancellationToken);

    public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _inner.ReceiveAsync(buffer, cancellationToken);

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, Flags(endOfMessage), cancellationToken).AsTask();

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer, messageType, Flags(endOfMessage), cancellationToken);

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // After the library's close frame the protocol allows no more data from this side: drop it.
            if (_closedForRestart)
            {
                return;
            }

            await _inner.SendAsync(buffer, messageType, messageFlags, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    // The semaphore stays undisposed: it never allocates a wait handle, and a drain that closes the
    // socket while the app disposes it must find it still usable.
    public override void Dispose() => _inner.Dispose();

    private static WebSocketMessageFlags Flags(bool endOfMessage) =>
        endOfMessage ? WebSocketMessageFlags.EndOfMessage : WebSocketMessageFlags.None;
}

using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GracefulHosting.Child.Drain;

// Stands in for the request's lifetime feature, so the library can fire the app's RequestAborted without aborting the connection.
internal sealed class LongLivedRequest : IHttpRequestLifetimeFeature
{
    private readonly LongLivedConnections _owner;
    private readonly IFeatureCollection _features;
    private readonly IHttpRequestLifetimeFeature _lifetime;
    private readonly CancellationTokenSource _ended = new();
    private readonly CancellationTokenRegistration _abortedRegistration;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationToken _requestAborted;
    private TrackedWebSocket? _webSocket;
    private volatile LongLivedKind _kind;
    private int _toldToGo;
    private volatile bool _aborted;

    public LongLivedRequest(LongLivedConnections owner, HttpContext context)
    {
        _owner = owner;
        _features = context.Features;
        _lifetime = _features.GetRequiredFeature<IHttpRequestLifetimeFeature>();
        _requestAborted = _ended.Token;
        _abortedRegistration = _lifetime.RequestAborted.UnsafeRegister(static state => ((LongLivedRequest)state!).CancelEnded(), this);
        _features.Set<IHttpRequestLifetimeFeature>(this);
        _features.Set(this);
    }

    public LongLivedKind Kind => _kind;

    public Task Finished => _finished.Task;

    public bool EndedByLibrary => _kind is LongLivedKind.EventStream or LongLivedKind.Marked or LongLivedKind.GrpcStream && Volatile.Read(ref _toldToGo) == 1;

    public bool Aborted => _aborted;

    public TrackedWebSocket? WebSocket => _webSocket;

    CancellationToken IHttpRequestLifetimeFeature.RequestAborted
    {
        get => _requestAborted;
        set => _requestAborted = value;
    }

    void IHttpRequestLifetimeFeature.Abort() => _lifetime.Abort();

    public void MarkLongLived() => Become(LongLivedKind.Marked);

    public void GrpcStreaming()
    {
        if (_kind == LongLivedKind.None)
        {
            Become(LongLivedKind.GrpcStream);
        }
    }

    public WebSocket Accepted(WebSocket socket)
    {
        var tracked = new TrackedWebSocket(socket);
        _webSocket = tracked;
        Become(LongLivedKind.WebSocket);
        return tracked;
    }

    public void ResponseStarting(string? contentType)
    {
        if (_kind == LongLivedKind.None && contentType is not null &&
            contentType.StartsWith(LongLivedConnections.EventStream, StringComparison.OrdinalIgnoreCase))
        {
            Become(LongLivedKind.EventStream);
        }
    }

    public void TellToGo(CancellationToken closeDeadline)
    {
        var kind = _kind;
        if (kind == LongLivedKind.None || Interlocked.Exchange(ref _toldToGo, 1) == 1)
        {
            return;
        }

        if (kind == LongLivedKind.WebSocket)
        {
            _ = CloseWebSocketAsync(_webSocket!, closeDeadline);
            return;
        }

        // So that the client reconnects to the new generation: HTTP/1.1 keep-alive ends, HTTP/2 gets GOAWAY.
        _features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        CancelEnded();
    }

    // The last resort after the grace period: aborts the connection, or the HTTP/2 stream.
    public void Abort()
    {
        _aborted = true;
        _lifetime.Abort();
    }

    public void Finish()
    {
        _abortedRegistration.Dispose();
        if (ReferenceEquals(_features.Get<IHttpRequestLifetimeFeature>(), this))
        {
            _features.Set(_lifetime);
        }

        _features.Set<LongLivedRequest>(null);
        _finished.TrySetResult();
    }

    private void Become(LongLivedKind kind) => _owner.Become(this, kind);

    // Only under the owner's lock, so that a drain that starts meanwhile sees the kind or is seen.
    internal void SetKind(LongLivedKind kind) => _kind = kind;

    private void CancelEnded()
    {
        try
        {
            _ended.Cancel();
        }
        catch (AggregateException)
        {
            // A callback the app registered on RequestAborted threw; that is the app's to report.
        }
    }

    private static async Task CloseWebSocketAsync(TrackedWebSocket socket, CancellationToken closeDeadline)
    {
        try
        {
            await socket.CloseForRestartAsync(closeDeadline).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is gone, or the grace period ended first: the drain aborts what is still open.
        }
    }
}

using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GracefulHosting.Child.Drain;

/// <summary>
/// One request that may stay open for long: a WebSocket handshake, a request for an event stream,
/// a gRPC call or a request to a marked endpoint. While it runs it stands in for the request's
/// <see cref="IHttpRequestLifetimeFeature"/>, so that the library can fire the app's
/// <c>RequestAborted</c> to end it without aborting the connection.
/// </summary>
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

    /// <summary>Completes when the request has ended, however it ended.</summary>
    public Task Finished => _finished.Task;

    /// <summary>True once the library has fired <c>RequestAborted</c> to end an event stream, gRPC stream or marked response.</summary>
    public bool EndedByLibrary => _kind is LongLivedKind.EventStream or LongLivedKind.Marked or LongLivedKind.GrpcStream && Volatile.Read(ref _toldToGo) == 1;

    /// <summary>True once the library has aborted the request after the grace period.</summary>
    public bool Aborted => _aborted;

    /// <summary>The accepted WebSocket, if this is one.</summary>
    public TrackedWebSocket? WebSocket => _webSocket;

    CancellationToken IHttpRequestLifetimeFeature.RequestAborted
    {
        get => _requestAborted;
        set => _requestAborted = value;
    }

    void IHttpRequestLifetimeFeature.Abort() => _lifetime.Abort();

    public void MarkLongLived() => Become(LongLivedKind.Marked);

    /// <summary>Grpc.AspNetCore runs this call as a streaming one (<see cref="GrpcStreamingSignal"/>).</summary>
    public void GrpcStreaming()
    {
        if (_kind == LongLivedKind.None)
        {
            Become(LongLivedKind.GrpcStream);
        }
    }

    /// <summary>Wraps the WebSocket the app accepted; the app uses the wrapper.</summary>
    public WebSocket Accepted(WebSocket socket)
    {
        var tracked = new TrackedWebSocket(socket);
        _webSocket = tracked;
        Become(LongLivedKind.WebSocket);
        return tracked;
    }

    /// <summary>Called as the response starts: an event stream is long-lived from here on.</summary>
    public void ResponseStarting(string? contentType)
    {
        if (_kind == LongLivedKind.None && contentType is not null &&
            contentType.StartsWith(LongLivedConnections.EventStream, StringComparison.OrdinalIgnoreCase))
        {
            Become(LongLivedKind.EventStream);
        }
    }

    /// <summary>
    /// Tells a long-lived request to go, once: a WebSocket gets a close frame with status 1001; an
    /// event stream, gRPC stream or marked response sees <c>RequestAborted</c> fire and its connection is
    /// asked to close after it (HTTP/1.1 keep-alive ends, HTTP/2 gets GOAWAY); a gRPC stream then ends
    /// with status UNAVAILABLE (<see cref="GrpcStatus"/>). Does nothing to a request that is not long-lived.
    /// </summary>
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

        _features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        CancelEnded();
    }

    /// <summary>Aborts the request's connection (or HTTP/2 stream): the last resort after the grace period.</summary>
    public void Abort()
    {
        _aborted = true;
        _lifetime.Abort();
    }

    /// <summary>The request has ended: puts the server's lifetime feature back and stops tracking.</summary>
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

    /// <summary>Only under the owner's lock, so that a drain that starts meanwhile sees the kind or is seen.</summary>
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

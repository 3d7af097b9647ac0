using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GracefulHosting.Child.Drain;

// Only requests that may stay open (by their headers or their endpoint's metadata) are tracked, so ordinary ones pay nothing.
internal sealed class LongLivedConnections
{
    internal const string EventStream = "text/event-stream";

    private readonly Lock _lock = new();
    private readonly HashSet<LongLivedRequest> _open = [];
    private readonly List<LongLivedRequest> _toldToGo = [];
    private CancellationToken _closeDeadline;
    private bool _draining;
    private bool _drainEnded;
    private TimeSpan _grace;
    private TimeProvider _time = TimeProvider.System;

    // Two features and two headers: cheap enough for every request. grpc false is GracefulRestart:EndGrpcStreams=false.
    public static LongLivedCandidate Recognise(HttpContext context, bool grpc = true)
    {
        var features = context.Features;
        if (features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true ||
            features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true)
        {
            return LongLivedCandidate.WebSocket;
        }

        if (grpc && GrpcStatus.IsGrpc(context.Request.ContentType))
        {
            return LongLivedCandidate.Grpc;
        }

        foreach (string? accept in context.Request.Headers.Accept)
        {
            if (accept is not null && accept.Contains(EventStream, StringComparison.OrdinalIgnoreCase))
            {
                return LongLivedCandidate.EventStream;
            }
        }

        return LongLivedCandidate.None;
    }

    public async Task RunAsync(HttpContext context, RequestDelegate next, LongLivedCandidate candidate, bool marked = false)
    {
        var request = new LongLivedRequest(this, context);
        lock (_lock)
        {
            _open.Add(request);
        }

        try
        {
            if (marked)
            {
                request.MarkLongLived();
            }

            if (candidate == LongLivedCandidate.EventStream)
            {
                context.Response.OnStarting(static state =>
                {
                    var (request, response) = ((LongLivedRequest, HttpResponse))state;
                    request.ResponseStarting(response.ContentType);
                    return Task.CompletedTask;
                }, (request, context.Response));
            }

            await next(candidate switch
            {
                LongLivedCandidate.WebSocket => FeatureCapture.CaptureWebSocket(context, request),
                LongLivedCandidate.Grpc => FeatureCapture.CaptureGrpc(context, request),
                _ => context,
            }).ConfigureAwait(false);
            if (request.Kind == LongLivedKind.GrpcStream && request.EndedByLibrary && !request.Aborted)
            {
                // Grpc.AspNetCore has written the status the method ended with (cancelled, or OK) but not sent it yet.
                GrpcStatus.SetUnavailable(context.Response);
            }
        }
        catch (OperationCanceledException) when (request.EndedByLibrary && !request.Aborted)
        {
            // The app stopped because the library fired its RequestAborted: the response ends normally
            // (for a started response, the final chunk or end of stream), as the drain intends.
            if (request.Kind == LongLivedKind.GrpcStream)
            {
                GrpcStatus.SetUnavailable(context.Response);
            }
        }
        finally
        {
            lock (_lock)
            {
                _open.Remove(request);
            }

            request.Finish();
        }
    }

    public Task RunMarkedAsync(HttpContext context, RequestDelegate endpoint)
    {
        if (context.Features.Get<LongLivedRequest>() is { } tracked)
        {
            tracked.MarkLongLived();
            return endpoint(context);
        }

        return RunAsync(context, endpoint, LongLivedCandidate.None, marked: true);
    }

    internal void Become(LongLivedRequest request, LongLivedKind kind)
    {
        bool draining, late;
        lock (_lock)
        {
            request.SetKind(kind);
            draining = _draining;
            late = _drainEnded;
            if (draining)
            {
                _toldToGo.Add(request);
            }
        }

        if (late)
        {
            // The drain has ended (a request on a connection kept alive through the quiet period): it gets
            // a grace period of its own, so that it cannot hold the generation until the host's stop timeout.
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Self.TellToGoLateAsync(state.Request), (Self: this, Request: request), preferLocal: false);
        }
        else if (draining)
        {
            // Not inline: this runs inside the app's accept or the response's first write.
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Request.TellToGo(state.Deadline), (Request: request, Deadline: _closeDeadline), preferLocal: false);
        }
    }

    private async Task TellToGoLateAsync(LongLivedRequest request)
    {
        using var deadline = new CancellationTokenSource(_grace, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _closeDeadline);
        request.TellToGo(linked.Token);
        try
        {
            await request.Finished.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            request.Abort();
        }
    }

    // Requests that become long-lived meanwhile, on a connection kept alive, are told to go as they do.
    public async Task<LongLivedDrainResult> DrainAsync(TimeSpan grace, TimeProvider time, CancellationToken cancellationToken)
    {
        long began = time.GetTimestamp();
        using var deadline = new CancellationTokenSource(grace, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        LongLivedRequest[] present;
        lock (_lock)
        {
            _closeDeadline = linked.Token;
            _draining = true;
            _grace = grace;
            _time = time;
            present = [.. _open.Where(r => r.Kind != LongLivedKind.None)];
            _toldToGo.AddRange(present);
        }

        foreach (var request in present)
        {
            request.TellToGo(linked.Token);
        }

        while (OpenLongLived() is { Length: > 0 } open)
        {
            try
            {
                await Task.WhenAll(open.Select(r => r.Finished)).WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        int aborted = 0;
        foreach (var request in OpenLongLived())
        {
            request.Abort();
            aborted++;
        }

        lock (_lock)
        {
            // The linked source is disposed on return; a request that becomes long-lived later gets
            // its close and a grace period of its own, bounded by the host's stop as well.
            _closeDeadline = cancellationToken;
            _drainEnded = true;
            var told = _toldToGo;
            return new LongLivedDrainResult(
                WebSocketsClosed: told.Count(r => r.WebSocket?.ClosedForRestart == true),
                WebSocketsAlreadyClosing: told.Count(r => r.Kind == LongLivedKind.WebSocket && r.WebSocket?.ClosedForRestart != true),
                GrpcStreamsEnded: told.Count(r => r.Kind == LongLivedKind.GrpcStream),
                EventStreamsEnded: told.Count(r => r.Kind == LongLivedKind.EventStream),
                MarkedEnded: told.Count(r => r.Kind == LongLivedKind.Marked),
                Aborted: aborted,
                Elapsed: time.GetElapsedTime(began));
        }
    }

    private LongLivedRequest[] OpenLongLived()
    {
        lock (_lock)
        {
            return [.. _open.Where(r => r.Kind != LongLivedKind.None)];
        }
    }
}

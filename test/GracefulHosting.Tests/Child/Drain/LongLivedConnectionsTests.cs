using GracefulHosting.Child.Drain;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;

namespace GracefulHosting.Tests.Child.Drain;

public sealed class LongLivedConnectionsTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    [Fact]
    public void Recognise_PlainGet_None()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Accept = "text/html, */*";

        Assert.Equal(LongLivedCandidate.None, LongLivedConnections.Recognise(context));
    }

    [Fact]
    public void Recognise_UpgradableRequest_WebSocket()
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpUpgradeFeature>(new UpgradeFeature());

        Assert.Equal(LongLivedCandidate.WebSocket, LongLivedConnections.Recognise(context));
    }

    [Theory]
    [InlineData("text/event-stream")]
    [InlineData("application/json, Text/Event-Stream;q=0.9")]
    public void Recognise_AcceptsEventStream_EventStream(string accept)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Accept = accept;

        Assert.Equal(LongLivedCandidate.EventStream, LongLivedConnections.Recognise(context));
    }

    [Theory]
    [InlineData("application/grpc")]
    [InlineData("application/grpc+proto")]
    [InlineData("application/grpc-web")]
    [InlineData("application/grpc-web-text+proto")]
    [InlineData("Application/GRPC; charset=utf-8")]
    public void Recognise_GrpcContentType_Grpc(string contentType)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = contentType;

        Assert.Equal(LongLivedCandidate.Grpc, LongLivedConnections.Recognise(context));
        Assert.Equal(LongLivedCandidate.None, LongLivedConnections.Recognise(context, grpc: false));
    }

    [Theory]
    [InlineData("application/grpcx")]
    [InlineData("application/json")]
    [InlineData("text/grpc")]
    public void Recognise_OtherContentType_None(string contentType)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = contentType;

        Assert.Equal(LongLivedCandidate.None, LongLivedConnections.Recognise(context));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DrainAsync_StreamingGrpcCall_CancelledAndEndsWithUnavailable(bool responseStarted)
    {
        var connections = new LongLivedConnections();
        var (context, lifetime) = NewContext();
        var response = new ResponseFeature { Started = responseStarted };
        context.Features.Set<IHttpResponseFeature>(response);
        context.Features.Set<IHttpResponseTrailersFeature>(response);
        var run = await StartGrpcAsync(connections, context, streams: true);

        var result = await connections.DrainAsync(Grace, TimeProvider.System, CancellationToken.None);

        await run;
        Assert.Equal(1, result.GrpcStreamsEnded);
        Assert.Equal(0, result.Aborted);
        Assert.False(lifetime.Aborted);
        var status = responseStarted ? response.Trailers : response.Headers;
        Assert.Equal("14", status["grpc-status"]);
        Assert.Equal(GrpcStatus.RestartingMessage, status["grpc-message"]);
    }

    [Fact]
    public async Task DrainAsync_UnaryGrpcCall_LeftToFinish()
    {
        var connections = new LongLivedConnections();
        var (context, lifetime) = NewContext();
        var release = new TaskCompletionSource();
        var run = await StartGrpcAsync(connections, context, streams: false, release.Task);

        var result = await connections.DrainAsync(Grace, TimeProvider.System, CancellationToken.None);

        Assert.Equal(0, result.Total);
        Assert.False(context.RequestAborted.IsCancellationRequested);
        release.SetResult();
        await run;
        Assert.Equal("0", context.Response.Headers["grpc-status"]);
        Assert.False(lifetime.Aborted);
    }

    [Fact]
    public async Task RunAsync_RequestTimeoutsReplaceTheFeature_StreamingStillSeenAndTimeoutDisabled()
    {
        var connections = new LongLivedConnections();
        var (context, _) = NewContext();
        var timeouts = new TimeoutFeature();
        var started = new TaskCompletionSource();
        var run = connections.RunAsync(context, async c =>
        {
            // As UseRequestTimeouts() does when a policy applies, after the library's middleware.
            c.Features.Set<IHttpRequestTimeoutFeature>(timeouts);
            c.Features.Get<IHttpRequestTimeoutFeature>()!.DisableTimeout();
            started.SetResult();
            await Task.Delay(Timeout.Infinite, c.RequestAborted);
        }, LongLivedCandidate.Grpc);
        await started.Task;

        var result = await connections.DrainAsync(Grace, TimeProvider.System, CancellationToken.None);

        await run;
        Assert.True(timeouts.Disabled);
        Assert.Equal(1, result.GrpcStreamsEnded);
    }

    [Fact]
    public async Task DrainAsync_MarkedRequestWaitingOnRequestAborted_EndsItCleanly()
    {
        var connections = new LongLivedConnections();
        var (context, lifetime) = NewContext();
        var run = await StartMarkedAsync(connections, context, c => Task.Delay(Timeout.Infinite, c.RequestAborted));

        var result = await connections.DrainAsync(Grace, TimeProvider.System, CancellationToken.None);

        await run; // the cancellation the handler let escape ends the request normally
        Assert.Equal(new LongLivedDrainResult(0, 0, 0, 0, 1, 0, result.Elapsed), result);
        Assert.True(result.Elapsed < Grace);
        Assert.False(lifetime.Aborted);
        Assert.Same(lifetime, context.Features.Get<IHttpRequestLifetimeFeature>());
    }

    [Fact]
    public async Task DrainAsync_HandlerIgnoresRequestAborted_AbortedAfterGracePeriod()
    {
        var connections = new LongLivedConnections();
        var (context, lifetime) = NewContext();
        var run = await StartMarkedAsync(connections, context, _ => lifetime.AbortCalled.Task);
        var grace = TimeSpan.FromMilliseconds(200);

        var result = await connections.DrainAsync(grace, TimeProvider.System, CancellationToken.None);

        Assert.True(lifetime.Aborted);
        Assert.Equal(1, result.Aborted);
        Assert.Equal(1, result.MarkedEnded);
        // Timers may fire a few milliseconds before the clock that measures them says they are due.
        Assert.True(result.Elapsed >= grace - TimeSpan.FromMilliseconds(20), $"aborted after {result.Elapsed}");
        await run;
    }

    [Fact]
    public async Task DrainAsync_EventStreamCandidateNotStarted_NotWaitedFor()
    {
        var connections = new LongLivedConnections();
        var (context, lifetime) = NewContext();
        var release = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        var run = connections.RunAsync(context, async _ =>
        {
            started.SetResult();
            await release.Task;
        }, LongLivedCandidate.EventStream);
        await started.Task;

        var result = await connections.DrainAsync(Grace, TimeProvider.System, CancellationToken.None);

        Assert.Equal(0, result.Total);
        Assert.Equal(0, result.Aborted);
        Assert.False(lifetime.Aborted);
        Assert.False(context.RequestAborted.IsCancellationRequested);
        release.SetResult();
        await run;
    }

    [Fact]
    public async Task RunMarkedAsync_DuringDrain_ToldToGoAtOnce()
    {
        var connections = new LongLivedConnections();
        await connections.DrainAsync(Grace, TimeProvider.System, CancellationToken.None);
        var (context, lifetime) = NewContext();

        // A request on a connection kept alive into the drain: it would wait for ever unless told to go.
        await connections.RunMarkedAsync(context, c => Task.Delay(Timeout.Infinite, c.RequestAborted)).WaitAsync(Grace);

        Assert.False(lifetime.Aborted);
    }

    [Fact]
    public async Task RunMarkedAsync_AfterTheDrainEndedHandlerIgnoresRequestAborted_AbortedAfterAGracePeriodOfItsOwn()
    {
        var connections = new LongLivedConnections();
        var grace = TimeSpan.FromMilliseconds(200);
        await connections.DrainAsync(grace, TimeProvider.System, CancellationToken.None);
        var (context, lifetime) = NewContext();

        // Kept alive through the quiet period after the drain of the long-lived requests ended: without a
        // grace period of its own, only the host's stop timeout would end it.
        var run = await StartMarkedAsync(connections, context, _ => lifetime.AbortCalled.Task);

        await lifetime.AbortCalled.Task.WaitAsync(Grace);
        Assert.True(lifetime.Aborted);
        await run;
    }

    [Fact]
    public async Task RunAsync_ClientLeaves_AppSeesRequestAbortedAndExceptionIsNotSwallowed()
    {
        var connections = new LongLivedConnections();
        var (context, lifetime) = NewContext();
        var run = await StartMarkedAsync(connections, context, c => Task.Delay(Timeout.Infinite, c.RequestAborted));

        lifetime.ClientLeaves();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    /// <summary>Runs <paramref name="handler"/> as a marked endpoint; returns the run once the handler has started.</summary>
    private static async Task<Task> StartMarkedAsync(LongLivedConnections connections, HttpContext context, Func<HttpContext, Task> handler)
    {
        var started = new TaskCompletionSource();
        var run = connections.RunMarkedAsync(context, c =>
        {
            started.SetResult();
            return handler(c);
        });
        await started.Task;
        return run;
    }

    /// <summary>
    /// Runs a gRPC call as Grpc.AspNetCore does: a streaming method disables its request timeout and waits
    /// on its cancellation token (<paramref name="release"/> for a unary one); the status goes into the
    /// headers or, once the response has started, the trailers. Returns the run once the method has started.
    /// </summary>
    private static async Task<Task> StartGrpcAsync(LongLivedConnections connections, HttpContext context, bool streams, Task? release = null)
    {
        var started = new TaskCompletionSource();
        var run = connections.RunAsync(context, async c =>
        {
            if (streams)
            {
                c.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
            }

            started.SetResult();
            string status = "0";
            try
            {
                await (release ?? Task.Delay(Timeout.Infinite, c.RequestAborted)).WaitAsync(c.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                status = "1";
            }

            var destination = c.Response.HasStarted ? c.Features.Get<IHttpResponseTrailersFeature>()!.Trailers : c.Response.Headers;
            destination["grpc-status"] = status;
        }, LongLivedCandidate.Grpc);
        await started.Task;
        return run;
    }

    private static (DefaultHttpContext Context, Lifetime Lifetime) NewContext()
    {
        var context = new DefaultHttpContext();
        var lifetime = new Lifetime();
        context.Features.Set<IHttpRequestLifetimeFeature>(lifetime);
        return (context, lifetime);
    }

    /// <summary>The server's lifetime feature: its token fires when the client leaves or the request is aborted.</summary>
    private sealed class Lifetime : IHttpRequestLifetimeFeature
    {
        private readonly CancellationTokenSource _aborted = new();

        public TaskCompletionSource AbortCalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Aborted { get; private set; }

        public CancellationToken RequestAborted { get; set; }

        public Lifetime() => RequestAborted = _aborted.Token;

        public void Abort()
        {
            Aborted = true;
            _aborted.Cancel();
            AbortCalled.TrySetResult();
        }

        public void ClientLeaves() => _aborted.Cancel();
    }

    /// <summary>A response that supports trailers, started or not.</summary>
    private sealed class ResponseFeature : HttpResponseFeature, IHttpResponseTrailersFeature
    {
        public bool Started { get; init; }

        public override bool HasStarted => Started;

        public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();
    }

    private sealed class TimeoutFeature : IHttpRequestTimeoutFeature
    {
        public bool Disabled { get; private set; }

        public CancellationToken RequestTimeoutToken => CancellationToken.None;

        public void DisableTimeout() => Disabled = true;
    }

    private sealed class UpgradeFeature : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => true;

        public Task<Stream> UpgradeAsync() => throw new NotSupportedException();
    }
}

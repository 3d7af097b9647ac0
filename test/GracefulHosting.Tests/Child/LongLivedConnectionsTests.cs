using GracefulHosting.Child;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GracefulHosting.Tests.Child;

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

    [Fact]
    public async Task DrainAsync_MarkedRequestWaitingOnRequestAborted_EndsItCleanly()
    {
        var connections = new LongLivedConnections();
        var (context, lifetime) = NewContext();
        var run = await StartMarkedAsync(connections, context, c => Task.Delay(Timeout.Infinite, c.RequestAborted));

        var result = await connections.DrainAsync(Grace, TimeProvider.System, CancellationToken.None);

        await run; // the cancellation the handler let escape ends the request normally
        Assert.Equal(new LongLivedDrainResult(0, 0, 0, 1, 0, result.Elapsed), result);
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

    private sealed class UpgradeFeature : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => true;

        public Task<Stream> UpgradeAsync() => throw new NotSupportedException();
    }
}

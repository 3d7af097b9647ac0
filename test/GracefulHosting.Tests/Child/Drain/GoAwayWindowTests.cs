using GracefulHosting.Child.Drain;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GracefulHosting.Tests.Child.Drain;

public sealed class GoAwayWindowTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);

    private static GoAwayWindow Create(FakeTimeProvider time, TimeSpan? window = null, TimeSpan? roundTrip = null) =>
        new(Options.Create(new GracefulRestartOptions { Http2GoAwayWindow = window ?? Window }), time, _ => roundTrip);

    private static DefaultHttpContext Request(string connectionId, string protocol = "HTTP/2")
    {
        var context = TestRequests.On(connectionId, protocol);
        context.Response.Body = new FlushCounter();
        return context;
    }

    /// <summary>The first HTTP/2 request of a connection during the drain, held from now.</summary>
    private static (FakeTimeProvider Time, GoAwayWindow Window, DefaultHttpContext Context, long Until) Held(TimeSpan? roundTrip = null)
    {
        var time = new FakeTimeProvider();
        var window = Create(time, roundTrip: roundTrip);
        var context = Request("a");
        Assert.True(window.TryHold(context, out long until));
        return (time, window, context, until);
    }

    [Fact]
    public void TryHold_Http2Requests_HoldsTheFirstOfEachConnection()
    {
        var window = Create(new FakeTimeProvider());

        Assert.True(window.TryHold(Request("a"), out _));
        Assert.False(window.TryHold(Request("a"), out _));
        Assert.True(window.TryHold(Request("b"), out _));
        Assert.False(window.TryHold(Request("b"), out _));
    }

    [Theory]
    [InlineData("HTTP/1.1")]
    [InlineData("HTTP/1.0")]
    [InlineData("HTTP/3")]
    public void TryHold_NotHttp2_NotHeld(string protocol)
    {
        var window = Create(new FakeTimeProvider());

        Assert.False(window.TryHold(Request("a", protocol), out _));
        // Nor does it use up the connection's turn.
        Assert.True(window.TryHold(Request("a"), out _));
    }

    [Fact]
    public void TryHold_WindowOff_NotHeld()
    {
        var window = Create(new FakeTimeProvider(), TimeSpan.Zero);

        Assert.False(window.TryHold(Request("a"), out _));
    }

    [Fact]
    public async Task HoldAsync_QuickResponse_FlushedAtOnceEndsWhenTheWindowHasPassed()
    {
        var (time, window, context, until) = Held();
        time.Advance(TimeSpan.FromMilliseconds(50));

        var held = window.HoldAsync(context, Task.CompletedTask, until);

        Assert.False(held.IsCompleted);
        Assert.Equal(1, ((FlushCounter)context.Response.Body).Flushes);
        time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(held.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await held.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task HoldAsync_ResponseStarted_NotFlushedAgain()
    {
        var (time, window, context, until) = Held();
        context.Features.Set<IHttpResponseFeature>(new StartedResponse());

        var held = window.HoldAsync(context, Task.CompletedTask, until);

        Assert.False(held.IsCompleted);
        Assert.Equal(0, ((FlushCounter)context.Response.Body).Flushes);
        time.Advance(Window);
        await held.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(20, 290)]
    [InlineData(400, 1050)]
    // A round trip this long is taken as the longest one waited for.
    [InlineData(3000, 1250)]
    public async Task HoldAsync_RoundTripMeasured_WindowLongerByTwoRoundTrips(int roundTripMs, int expectedMs)
    {
        var (time, window, context, until) = Held(TimeSpan.FromMilliseconds(roundTripMs));

        var held = window.HoldAsync(context, Task.CompletedTask, until);

        time.Advance(TimeSpan.FromMilliseconds(expectedMs - 1));
        Assert.False(held.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await held.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task HoldAsync_ResponseOutlastsTheWindow_EndsWithIt()
    {
        var (time, window, context, until) = Held();
        var pipeline = new TaskCompletionSource();

        var held = window.HoldAsync(context, pipeline.Task, until);
        time.Advance(Window);
        Assert.False(held.IsCompleted);
        pipeline.SetResult();

        await held.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, ((FlushCounter)context.Response.Body).Flushes);
    }

    [Fact]
    public async Task HoldAsync_RequestAborted_EndsAtOnce()
    {
        var (_, window, context, until) = Held();
        using var aborted = new CancellationTokenSource();
        context.RequestAborted = aborted.Token;

        var held = window.HoldAsync(context, Task.CompletedTask, until);
        Assert.False(held.IsCompleted);
        await aborted.CancelAsync();

        await held.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task HoldAsync_PipelineFails_FailsWithoutHolding()
    {
        var (_, window, context, until) = Held();

        var held = window.HoldAsync(context, Task.FromException(new InvalidOperationException("app failed")), until);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => held.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("app failed", e.Message);
        Assert.Equal(0, ((FlushCounter)context.Response.Body).Flushes);
    }

    private sealed class StartedResponse : HttpResponseFeature
    {
        public override bool HasStarted => true;
    }

    private sealed class FlushCounter : MemoryStream
    {
        public int Flushes { get; private set; }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flushes++;
            return Task.CompletedTask;
        }
    }
}

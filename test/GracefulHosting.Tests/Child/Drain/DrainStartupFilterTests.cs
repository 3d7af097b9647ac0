using GracefulHosting.Child;
using GracefulHosting.Child.Drain;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GracefulHosting.Tests.Child.Drain;

public sealed class DrainStartupFilterTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);

    private static RequestDelegate Pipeline(DrainState drain, FakeTimeProvider time)
    {
        var options = Options.Create(new GracefulRestartOptions { Http2GoAwayWindow = Window });
        var filter = new DrainStartupFilter(drain, new LongLivedConnections(), new GoAwayWindow(options, time), options);
        var app = new ApplicationBuilder(new ServiceCollection().BuildServiceProvider());
        filter.Configure(inner => inner.Run(_ => Task.CompletedTask))(app);
        return app.Build();
    }

    private static (DefaultHttpContext Context, CloseRecorder Lifetime) Http2Request(string connectionId)
    {
        var context = TestRequests.On(connectionId);
        var lifetime = new CloseRecorder();
        context.Features.Set<IConnectionLifetimeNotificationFeature>(lifetime);
        return (context, lifetime);
    }

    [Fact]
    public async Task Request_Http2WhileDraining_ConnectionAskedToCloseAndItsFirstRequestHeldForTheWindow()
    {
        var time = new FakeTimeProvider();
        var drain = new DrainState();
        drain.BeginDraining();
        var pipeline = Pipeline(drain, time);
        var (first, firstLifetime) = Http2Request("a");
        var (second, secondLifetime) = Http2Request("a");

        var held = pipeline(first);
        var next = pipeline(second);

        Assert.True(firstLifetime.CloseRequested);
        Assert.True(secondLifetime.CloseRequested);
        Assert.True(next.IsCompletedSuccessfully);
        Assert.False(held.IsCompleted);
        time.Advance(Window);
        await held.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Request_Http2NotDraining_NeitherAskedToCloseNorHeld()
    {
        var pipeline = Pipeline(new DrainState(), new FakeTimeProvider());
        var (context, lifetime) = Http2Request("a");

        var task = pipeline(context);

        Assert.True(task.IsCompletedSuccessfully);
        Assert.False(lifetime.CloseRequested);
    }

    private sealed class CloseRecorder : IConnectionLifetimeNotificationFeature
    {
        public CancellationToken ConnectionClosedRequested { get; set; }

        public bool CloseRequested { get; private set; }

        public void RequestClose() => CloseRequested = true;
    }
}

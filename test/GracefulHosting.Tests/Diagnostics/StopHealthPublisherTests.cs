using GracefulHosting.Child;
using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Diagnostics;
using GracefulHosting.Hosting;
using GracefulHosting.Interop;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace GracefulHosting.Tests.Diagnostics;

/// <summary>The app's health published at once when a stop begins, with the services <c>AddGracefulRestartChecks</c> registers.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StopHealthPublisherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Drain_ServiceStops_EveryPublisherGetsTheUnhealthyReportAtOnce()
    {
        var drain = new DrainState();
        var first = new RecordingPublisher();
        var second = new RecordingPublisher();
        await using var services = Services(drain, sockets: null, first, second);
        var publisher = await StartAsync(services);

        drain.BeginDraining();

        var report = await first.Published.WaitAsync(Timeout);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["graceful-restart"].Status);
        Assert.Same(report, await second.Published.WaitAsync(Timeout));
        await publisher.ExecuteTask!.WaitAsync(Timeout);
    }

    [LinuxFact]
    public async Task Drain_ForARestart_PublishesNothing()
    {
        Assert.Equal(0, Libc.CreateSeqPacketPair(out int child, out int master));
        using var channel = new MasterChannel(child);
        try
        {
            await AnnounceRestartAsync(channel, master);
            var drain = new DrainState();
            var recording = new RecordingPublisher();
            await using var services = Services(drain, new InheritedSockets(new ChildMarker(2, child), channel), recording);
            var publisher = await StartAsync(services);

            drain.BeginDraining();
            await publisher.ExecuteTask!.WaitAsync(Timeout);

            Assert.False(recording.Published.IsCompleted);
        }
        finally
        {
            Libc.Close(master);
        }
    }

    [Fact]
    public async Task Drain_PublisherThrows_TheOthersStillRunAndNothingEscapes()
    {
        var drain = new DrainState();
        var recording = new RecordingPublisher();
        await using var services = Services(drain, sockets: null, new ThrowingPublisher(), recording);
        var publisher = await StartAsync(services);

        drain.BeginDraining();
        await publisher.ExecuteTask!.WaitAsync(Timeout);

        Assert.True(publisher.ExecuteTask.IsCompletedSuccessfully);
        Assert.Equal(HealthStatus.Unhealthy, (await recording.Published.WaitAsync(Timeout)).Status);
    }

    private static ServiceProvider Services(DrainState drain, InheritedSockets? sockets, params IHealthCheckPublisher[] publishers)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new GracefulRestartContext(GracefulRestartRole.Child, 2));
        services.AddSingleton(drain);
        if (sockets is not null)
        {
            services.AddSingleton(sockets);
        }

        foreach (var publisher in publishers)
        {
            services.AddSingleton(publisher);
        }

        services.AddHealthChecks().AddGracefulRestartChecks();
        return services.BuildServiceProvider();
    }

    private static async Task<StopHealthPublisher> StartAsync(IServiceProvider services)
    {
        var publisher = services.GetServices<IHostedService>().OfType<StopHealthPublisher>().Single();
        await publisher.StartAsync(CancellationToken.None);
        return publisher;
    }

    private static async Task AnnounceRestartAsync(MasterChannel channel, int master)
    {
        Assert.Equal(0, UnixMessages.Send(master, System.Text.Encoding.UTF8.GetBytes(MasterChannel.RestartNotice)));
        var deadline = DateTime.UtcNow + Timeout;
        while (!channel.RestartAnnounced)
        {
            Assert.True(DateTime.UtcNow < deadline, "the channel did not read RESTART=1");
            await Task.Delay(10);
        }
    }

    private sealed class RecordingPublisher : IHealthCheckPublisher
    {
        private readonly TaskCompletionSource<HealthReport> _published = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<HealthReport> Published => _published.Task;

        public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
        {
            _published.TrySetResult(report);
            return Task.CompletedTask;
        }
    }

    private sealed class ThrowingPublisher : IHealthCheckPublisher
    {
        public Task PublishAsync(HealthReport report, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The registry is away.");
    }
}

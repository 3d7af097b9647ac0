using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests.RealApps;

/// <summary>
/// An app with OpenTelemetry metrics, UseSystemd(), console logging, scope validation, a
/// BackgroundService and a start-up step guarded by IGracefulRestartContext.
/// </summary>
public sealed class TelemetryAppTests
{
    [Fact]
    public async Task Sighup_OpenTelemetryInMaster_ExportsGracefulHostingMeter()
    {
        await using var master = MasterProcess.Start(app: "TelemetryApp");
        var address = await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);

        await using var load = await RealAppScenario.RestartUnderLoadAsync(master, master.Pid, address, 2);

        // OpenTelemetry's hosted service and the app's master service run in the master; the
        // in-memory exporter there receives the GracefulHosting meter.
        await master.WaitForLineAsync($@"Exported gracefulhosting.restarts=1 in pid {master.Pid}\b");
        await master.WaitForLineAsync($@"Exported gracefulhosting.generation=2 in pid {master.Pid}\b");
        Assert.Empty(load.Failures);
        Assert.NotEmpty(load.Bodies);
        Assert.DoesNotContain(first, RealAppScenario.PidsIn(master, @"Exported gracefulhosting\.\S+ in pid (\d+)"));
    }

    [Fact]
    public async Task Start_AppCode_RunsInChildrenOnlyWithOptionsKept()
    {
        await using var master = MasterProcess.Start(app: "TelemetryApp");
        var address = await master.WaitForAddressAsync();
        int child = await master.WaitForReadyAsync(1);
        using var client = Http.CreateClient(address);

        string scopes = await client.GetStringAsync("/scopes");
        string body = await client.GetStringAsync("/");
        await master.WaitForLineAsync($"Heartbeat started in pid {child}");

        Assert.Equal("scopes validated\n", scopes);
        Assert.StartsWith($"release=built pid={child} generation=1 ", body, StringComparison.Ordinal);
        Assert.Equal([child], RealAppScenario.PidsIn(master, @"Heartbeat started in pid (\d+)"));
        Assert.Equal([child], RealAppScenario.PidsIn(master, @"Migrating in pid (\d+): role Child, generation 1"));
        Assert.Equal([master.Pid], RealAppScenario.PidsIn(master, @"Starting pid (\d+): child=False, generation=0"));
        Assert.Equal([child], RealAppScenario.PidsIn(master, @"Starting pid (\d+): child=True, generation=1"));
        // Not a systemd service here: plain console format, no journal priority prefix.
        Assert.DoesNotContain(master.Lines, l => l.StartsWith("<6>", StringComparison.Ordinal));
    }
}

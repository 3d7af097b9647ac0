using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests.RealApps;

/// <summary>UseSystemd(): children of a master that runs as a systemd service log in the journal format too.</summary>
public sealed class JournalConsoleTests
{
    [Fact]
    public async Task Sighup_MasterIsSystemdService_EveryGenerationLogsInJournalFormat()
    {
        // Hosting.Systemd takes a process whose parent is named "systemd" for a service: here a
        // shell by that name starts the master and waits for it, as systemd would.
        using var temp = new TempDirectory();
        string systemd = Path.Combine(temp.Path, "systemd");
        File.CreateSymbolicLink(systemd, "/bin/bash");
        await using var master = MasterProcess.Start(app: "TelemetryApp", launcher: [systemd, "-c", "\"$@\"; exit $?", "systemd"]);
        int masterPid = await RealAppScenario.MasterPidAsync(master);
        var address = await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);

        await using var load = await RealAppScenario.RestartUnderLoadAsync(master, masterPid, address, 2);
        int second = await master.WaitForRestartAsync(2);

        Assert.NotEqual(master.Pid, masterPid);
        await master.WaitForLineAsync($@"^<6>TelemetryApp\.Heartbeat\[\d+\] Heartbeat started in pid {first}$");
        await master.WaitForLineAsync($@"^<6>TelemetryApp\.Heartbeat\[\d+\] Heartbeat started in pid {second}$");
        await master.WaitForLineAsync($@"^<6>GracefulHosting\.Child\.ChildService\[101\] Ready: serving on ");
        Assert.Contains(master.Lines, l => l.StartsWith("<6>GracefulHosting.Master.MasterService[1] Graceful restart master", StringComparison.Ordinal));
        Assert.DoesNotContain(master.Lines, l => l.StartsWith("info: ", StringComparison.Ordinal));
        Assert.Empty(load.Failures);
    }
}

using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests.RealApps;

/// <summary>A generic worker host with no server: nothing to hand over, so no master.</summary>
public sealed class WorkerAppTests
{
    [Fact]
    public async Task Start_WorkerWithoutServer_RunsAloneAsDisabledAndStopsOnSigterm()
    {
        await using var worker = MasterProcess.Start(app: "WorkerApp", defaultEndpoint: false);

        await worker.WaitForLineAsync($@"Worker host pid {worker.Pid} runs as Disabled");
        await worker.WaitForLineAsync($@"Worker started in pid {worker.Pid}\b");
        await worker.WaitForLineAsync("Application started");
        Assert.Empty(Native.Descendants(worker.Pid));
        Assert.Empty(ProcNet.ListeningSockets(worker.Pid));
        Assert.False(worker.HasLine("Listening on|Started child generation"), worker.Output);

        worker.Signal(Native.SIGTERM);

        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(20)), worker.Output);
        Assert.Equal(0, worker.ExitCode);
    }

    [Fact]
    public async Task Start_RoleNeverApplied_StopsWithErrorNamingTheFix()
    {
        await using var worker = MasterProcess.Start(app: "WorkerApp", defaultEndpoint: false, arguments: ["--register-inside-host-builder"]);

        Assert.True(await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)), worker.Output);
        Assert.NotEqual(0, worker.ExitCode);
        Assert.True(worker.HasLine("GracefulHosting could not apply its role"), worker.Output);
        Assert.True(worker.HasLine(@"hostBuilder\.UseGracefulRestart\(\)"), worker.Output);
        Assert.False(worker.HasLine("Worker started"), worker.Output);
    }
}

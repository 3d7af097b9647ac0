using GracefulHosting.Child;
using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Diagnostics;
using GracefulHosting.Hosting;
using GracefulHosting.Interop;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulHosting.Tests.Diagnostics;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class GracefulRestartHealthCheckTests
{
    [Fact]
    public async Task CheckHealth_ServingChild_Healthy()
    {
        var check = new GracefulRestartHealthCheck(new GracefulRestartContext(GracefulRestartRole.Child, 3), new DrainState());

        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal(3, result.Data["generation"]);
    }

    [LinuxFact]
    public async Task CheckHealth_DrainingForARestart_HealthySayingTheNextGenerationServes()
    {
        Assert.Equal(0, Libc.CreateSeqPacketPair(out int child, out int master));
        using var channel = new MasterChannel(child);
        try
        {
            var drain = new DrainState();
            drain.BeginDraining();
            var check = new GracefulRestartHealthCheck(new GracefulRestartContext(GracefulRestartRole.Child, 3), drain,
                new InheritedSockets(new ChildMarker(3, child), channel));
            Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

            Assert.Equal(0, UnixMessages.Send(master, System.Text.Encoding.UTF8.GetBytes(MasterChannel.RestartNotice)));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!channel.RestartAnnounced && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }

            var result = await check.CheckHealthAsync(new HealthCheckContext());
            Assert.Equal(HealthStatus.Healthy, result.Status);
            Assert.Contains("next generation serves", result.Description, StringComparison.Ordinal);
        }
        finally
        {
            Libc.Close(master);
        }
    }

    [Fact]
    public async Task CheckHealth_DrainingChild_Unhealthy()
    {
        var drain = new DrainState();
        drain.BeginDraining();
        var check = new GracefulRestartHealthCheck(new GracefulRestartContext(GracefulRestartRole.Child, 3), drain);

        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("Draining", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckHealth_DisabledRoleWithoutDrainState_Healthy()
    {
        var check = new GracefulRestartHealthCheck(new GracefulRestartContext(GracefulRestartRole.Disabled, 0));

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
    }
}

using GracefulHosting.Child;
using GracefulHosting.Diagnostics;
using GracefulHosting.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulHosting.Tests.Diagnostics;

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

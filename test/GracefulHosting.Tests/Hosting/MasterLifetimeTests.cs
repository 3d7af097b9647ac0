using GracefulHosting.Child;
using GracefulHosting.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GracefulHosting.Tests.Hosting;

/// <summary>The master never prints the host's own start lines, which made it look like a second start of the app.</summary>
public sealed class MasterLifetimeTests
{
    [LinuxFact]
    public Task Apply_MasterWithConsoleLifetime_HostStartLinesSayMasterAndPid() => AssertMasterStartLinesAsync(systemd: false);

    [LinuxFact]
    public Task Apply_MasterWithSystemdLifetime_HostStartLinesSayMasterAndPid() => AssertMasterStartLinesAsync(systemd: true);

    private static async Task AssertMasterStartLinesAsync(bool systemd)
    {
        Assert.True(string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ChildMarker.VariableName)), "the test process must not look like a child");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders().AddFakeLogging();
        if (systemd)
        {
            builder.Services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
            builder.Services.AddSingleton<IHostLifetime, SystemdLifetime>();
        }

        new GracefulRestartSetup().Apply(builder.Services, new ConfigurationBuilder().Build());
        await using var services = builder.Services.BuildServiceProvider();
        var lifetime = services.GetRequiredService<IHostLifetime>();
        await lifetime.WaitForStartAsync(CancellationToken.None);
        ((ApplicationLifetime)services.GetRequiredService<IHostApplicationLifetime>()).NotifyStarted();
        await lifetime.StopAsync(CancellationToken.None);

        var messages = services.GetFakeLogCollector().GetSnapshot().Select(r => r.Message).ToList();
        Assert.DoesNotContain(messages, m => m.StartsWith("Application started", StringComparison.Ordinal)
            || m.StartsWith("Hosting environment", StringComparison.Ordinal) || m.StartsWith("Content root path", StringComparison.Ordinal));
        Assert.Single(messages, m => m.StartsWith($"GracefulHosting master (pid {Environment.ProcessId}) started", StringComparison.Ordinal)
            && m.Contains("SIGHUP", StringComparison.Ordinal));
    }
}

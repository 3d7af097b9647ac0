using GracefulHosting.Child;
using GracefulHosting.Hosting;
using GracefulHosting.Master;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Tests.Hosting;

public class GracefulRestartSetupTests
{
    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();

    [Fact]
    public void BindOptions_EmptyConfiguration_Defaults()
    {
        var options = GracefulRestartSetup.BindOptions(new ServiceCollection(), Config());

        var defaults = new GracefulRestartOptions();
        Assert.True(options.Enabled);
        Assert.Equal(GracefulRestartMode.Auto, options.Mode);
        Assert.Equal(RestartStrategy.StartFirst, options.Strategy);
        Assert.Equal(TimeSpan.FromSeconds(60), options.StartTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ExitTimeout);
        Assert.Equal(defaults.DrainQuietPeriod, options.DrainQuietPeriod);
        Assert.Equal("SIGHUP", options.RestartSignal);
        Assert.Equal(defaults.CrashRestartDelay, options.CrashRestartDelay);
        Assert.Equal(defaults.CrashRestartMaxDelay, options.CrashRestartMaxDelay);
    }

    [Fact]
    public void BindOptions_EverySettingInSection_BindsEachOne()
    {
        var configuration = Config(
            ("GracefulRestart:Enabled", "false"),
            ("GracefulRestart:Mode", "Direct"),
            ("GracefulRestart:Strategy", "StopFirst"),
            ("GracefulRestart:StartTimeout", "00:00:05"),
            ("GracefulRestart:ExitTimeout", "00:02:00"),
            ("GracefulRestart:DrainQuietPeriod", "00:00:03"),
            ("GracefulRestart:RestartSignal", "SIGUSR2"),
            ("GracefulRestart:CrashRestartDelay", "00:00:00.250"),
            ("GracefulRestart:CrashRestartMaxDelay", "00:00:10"));

        var options = GracefulRestartSetup.BindOptions(new ServiceCollection(), configuration);

        Assert.False(options.Enabled);
        Assert.Equal(GracefulRestartMode.Direct, options.Mode);
        Assert.Equal(RestartStrategy.StopFirst, options.Strategy);
        Assert.Equal(TimeSpan.FromSeconds(5), options.StartTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), options.ExitTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), options.DrainQuietPeriod);
        Assert.Equal("SIGUSR2", options.RestartSignal);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.CrashRestartDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), options.CrashRestartMaxDelay);
    }

    [Fact]
    public void BindOptions_KeysOutsideSection_Ignored()
    {
        var configuration = Config(("StartTimeout", "00:00:05"), ("Other:Strategy", "StopFirst"));

        var options = GracefulRestartSetup.BindOptions(new ServiceCollection(), configuration);

        Assert.Equal(TimeSpan.FromSeconds(60), options.StartTimeout);
        Assert.Equal(RestartStrategy.StartFirst, options.Strategy);
    }

    [Fact]
    public void BindOptions_ConfigureAction_OverridesConfiguration()
    {
        var configuration = Config(
            ("GracefulRestart:StartTimeout", "00:00:05"),
            ("GracefulRestart:Strategy", "StopFirst"));
        var services = new ServiceCollection();
        services.AddGracefulRestart(o => o.StartTimeout = TimeSpan.FromSeconds(7));

        var options = GracefulRestartSetup.BindOptions(services, configuration);

        Assert.Equal(TimeSpan.FromSeconds(7), options.StartTimeout);
        Assert.Equal(RestartStrategy.StopFirst, options.Strategy);
    }

    [Fact]
    public void BindOptions_ConfigureAction_SeesBoundValues()
    {
        TimeSpan seen = TimeSpan.Zero;
        var services = new ServiceCollection();
        services.AddGracefulRestart(o => seen = o.ExitTimeout);

        GracefulRestartSetup.BindOptions(services, Config(("GracefulRestart:ExitTimeout", "00:00:42")));

        Assert.Equal(TimeSpan.FromSeconds(42), seen);
    }

    [Fact]
    public void BindOptions_UnknownEnumName_ThrowsNamingKey()
    {
        var configuration = Config(("GracefulRestart:Mode", "Sideways"));

        var e = Assert.Throws<InvalidOperationException>(() => GracefulRestartSetup.BindOptions(new ServiceCollection(), configuration));

        Assert.Contains("GracefulRestart:Mode", e.Message, StringComparison.Ordinal);
        Assert.Contains("Sideways", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BindOptions_BadTimeSpan_ThrowsNamingKey()
    {
        var configuration = Config(("GracefulRestart:StartTimeout", "five seconds"));

        var e = Assert.Throws<InvalidOperationException>(() => GracefulRestartSetup.BindOptions(new ServiceCollection(), configuration));

        Assert.Contains("GracefulRestart:StartTimeout", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ConfigureActionAndSection_BoundOnceAndTheContainerServesThatInstance()
    {
        int calls = 0;
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection([new("GracefulRestart:StartTimeout", "00:00:09")]);
        builder.Services.AddGracefulRestart(o => calls++);

        using var host = builder.Build();
        var options = host.Services.GetRequiredService<IOptions<GracefulRestartOptions>>().Value;

        Assert.Equal(1, calls);
        Assert.Equal(TimeSpan.FromSeconds(9), options.StartTimeout);
        Assert.Same(options, host.Services.GetRequiredService<IOptionsMonitor<GracefulRestartOptions>>().CurrentValue);
    }

    [Fact]
    public void Apply_AppConfiguresOptionsItself_TheRoleAndTheContainerSeeIt()
    {
        var services = new ServiceCollection();
        services.AddGracefulRestart();
        services.Configure<GracefulRestartOptions>(o => o.Mode = GracefulRestartMode.Disabled);
        services.PostConfigure<GracefulRestartOptions>(o => o.StartTimeout = TimeSpan.FromSeconds(8));

        new GracefulRestartSetup().Apply(services, Config());

        Assert.Equal(GracefulRestartRole.Disabled, Context(services).Role);
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<GracefulRestartOptions>>().Value;
        Assert.Equal(GracefulRestartMode.Disabled, options.Mode);
        Assert.Equal(TimeSpan.FromSeconds(8), options.StartTimeout);
    }

    [Fact]
    public void Apply_ConfigureStepNeedsServices_ThrowsNamingTheWaysThatWork()
    {
        var services = new ServiceCollection();
        services.AddGracefulRestart();
        services.AddOptions<GracefulRestartOptions>().Configure<TimeProvider>((o, time) => o.StartTimeout = TimeSpan.FromSeconds(5));

        var e = Assert.Throws<InvalidOperationException>(() => new GracefulRestartSetup().Apply(services, Config()));

        Assert.Contains("'GracefulRestart' configuration section", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_InvalidOptionsWhileEnabled_ThrowsNamingKeyAndValue()
    {
        var services = new ServiceCollection();
        var configuration = Config(("GracefulRestart:StartTimeout", "00:00:00"));

        var e = Assert.Throws<OptionsValidationException>(() => new GracefulRestartSetup().Apply(services, configuration));

        Assert.Contains("GracefulRestart:StartTimeout", e.Message, StringComparison.Ordinal);
        Assert.Contains("'00:00:00'", e.Message, StringComparison.Ordinal);
        Assert.Empty(services);
    }

    [Theory]
    [InlineData("GracefulRestart:Enabled", "false")]
    [InlineData("GracefulRestart:Mode", "Disabled")]
    public void Apply_InvalidOptionsButTurnedOff_RegistersDisabledContext(string key, string value)
    {
        var services = new ServiceCollection();
        var configuration = Config((key, value), ("GracefulRestart:StartTimeout", "00:00:00"));

        new GracefulRestartSetup().Apply(services, configuration);

        Assert.Equal(new GracefulRestartContext(GracefulRestartRole.Disabled, 0), Context(services));
    }

    [Fact]
    public void Apply_ServerIsNotKestrel_DisabledAndAppUntouched()
    {
        AssertNoChildMarker();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddSingleton<IServer, FakeServer>();
        builder.Services.AddHostedService<FakeHostedService>();
        var before = builder.Services.ToList();

        new GracefulRestartSetup().Apply(builder.Services, Config());

        Assert.Equal(new GracefulRestartContext(GracefulRestartRole.Disabled, 0), Context(builder.Services));
        Assert.Equal(before, builder.Services.Take(before.Count));
        // Only the bound options, the role and the log enricher are added.
        Assert.Equal(
            [typeof(IOptionsFactory<GracefulRestartOptions>), typeof(GracefulRestartContext), typeof(IGracefulRestartContext), typeof(Serilog.Core.ILogEventEnricher)],
            builder.Services.Skip(before.Count).Select(d => d.ServiceType));
    }

    [Fact]
    public void Apply_ServerRegisteredByFactory_Disabled()
    {
        AssertNoChildMarker();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddSingleton<IServer>(_ => new FakeServer());

        new GracefulRestartSetup().Apply(builder.Services, Config());

        Assert.Equal(GracefulRestartRole.Disabled, Context(builder.Services).Role);
    }

    [LinuxFact]
    public void Apply_KestrelOnLinux_MasterRunsNoneOfTheApp()
    {
        AssertNoChildMarker();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddHostedService<FakeHostedService>();
        Assert.Contains(builder.Services, d => d.ImplementationType == typeof(FakeHostedService));

        new GracefulRestartSetup().Apply(builder.Services, Config());

        Assert.Equal(new GracefulRestartContext(GracefulRestartRole.Master, 0), Context(builder.Services));
        var hosted = Assert.Single(builder.Services, d => d.ServiceType == typeof(IHostedService));
        Assert.NotNull(hosted.ImplementationFactory);
        Assert.Contains(builder.Services, d => d.ServiceType == typeof(MasterService));
        Assert.Contains(builder.Services, d => d.ServiceType == typeof(ChildCommand));
    }

    [LinuxFact]
    public void Apply_KestrelOnLinux_MasterShutdownTimeoutOutlastsExitTimeout()
    {
        AssertNoChildMarker();
        var builder = WebApplication.CreateSlimBuilder();

        builder.Services.Configure<GracefulRestartOptions>(o => o.ExitTimeout = TimeSpan.FromSeconds(40));
        new GracefulRestartSetup().Apply(builder.Services, Config());
        using var provider = builder.Services.BuildServiceProvider();

        Assert.Equal(TimeSpan.FromSeconds(55), provider.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    private static GracefulRestartContext Context(IServiceCollection services) =>
        Assert.IsType<GracefulRestartContext>(Assert.Single(services, d => d.ServiceType == typeof(GracefulRestartContext)).ImplementationInstance);

    private static void AssertNoChildMarker() =>
        Assert.True(string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ChildMarker.VariableName)), "the test process must not look like a child");

    private sealed class FakeHostedService : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
    }
}

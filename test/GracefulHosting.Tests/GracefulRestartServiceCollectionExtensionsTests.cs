using Autofac;
using Autofac.Extensions.DependencyInjection;
using GracefulHosting.Hosting;
using GracefulHosting.Master;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulHosting.Tests;

/// <summary>
/// The role is applied to the final service collection whatever container the app uses and in
/// whichever order it registers it; a host that never applies it fails instead of running without a master.
/// </summary>
public class GracefulRestartServiceCollectionExtensionsTests
{
    [Fact]
    public void AddGracefulRestart_NullServices_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => GracefulRestartServiceCollectionExtensions.AddGracefulRestart(null!));
        Assert.Throws<ArgumentNullException>(() => GracefulRestartHostBuilderExtensions.UseGracefulRestart(null!));
    }

    [LinuxFact]
    public void UseGracefulRestart_WebApplicationBuilder_MasterAppliedToServicesAddedLater()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Host.UseGracefulRestart();
        builder.Services.AddHostedService<AppService>();

        using var app = builder.Build();

        Assert.Equal(GracefulRestartRole.Master, app.Services.GetRequiredService<IGracefulRestartContext>().Role);
        Assert.DoesNotContain(builder.Services, d => d.ImplementationType == typeof(AppService));
        Assert.Contains(builder.Services, d => d.ServiceType == typeof(MasterService));
    }

    [LinuxFact]
    public void UseGracefulRestart_ThenAutofacFactory_AutofacBuildsAndRoleApplied()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Host.UseGracefulRestart();
        builder.Host.UseServiceProviderFactory(new AutofacServiceProviderFactory());
        builder.Services.AddHostedService<AppService>();

        using var app = builder.Build();

        Assert.IsType<AutofacServiceProvider>(app.Services);
        Assert.Equal(GracefulRestartRole.Master, app.Services.GetRequiredService<IGracefulRestartContext>().Role);
        Assert.DoesNotContain(builder.Services, d => d.ImplementationType == typeof(AppService));
    }

    [LinuxFact]
    public void UseGracefulRestart_AfterAutofacAndConfigureContainer_BothApplied()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Host.UseServiceProviderFactory(new AutofacServiceProviderFactory());
        builder.Host.ConfigureContainer<ContainerBuilder>(container => container.RegisterInstance(new Marker("from Autofac")));
        builder.Host.UseGracefulRestart();

        using var app = builder.Build();

        Assert.IsType<AutofacServiceProvider>(app.Services);
        Assert.Equal("from Autofac", app.Services.GetRequiredService<Marker>().Text);
        Assert.Equal(GracefulRestartRole.Master, app.Services.GetRequiredService<IGracefulRestartContext>().Role);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UseGracefulRestart_WithUseDefaultServiceProvider_OptionsKept(bool before)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (before)
        {
            builder.Host.UseGracefulRestart();
        }

        builder.Host.UseDefaultServiceProvider(options => options.ValidateScopes = true);
        if (!before)
        {
            builder.Host.UseGracefulRestart();
        }

        builder.Services.AddScoped<Marker>(_ => new Marker("scoped"));

        using var app = builder.Build();

        var e = Assert.Throws<InvalidOperationException>(() => app.Services.GetRequiredService<Marker>());
        Assert.Contains("scoped", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(app.Services.GetRequiredService<IGracefulRestartContext>());
    }

    [LinuxFact]
    public void UseGracefulRestart_GenericHostBuilderWithAutofac_Master()
    {
        var hostBuilder = new HostBuilder()
            .UseGracefulRestart()
            .UseServiceProviderFactory(new AutofacServiceProviderFactory())
            // Configure(...) names the test assembly as the application; the test host is the entry.
            .ConfigureWebHost(web => web.UseKestrel().Configure(_ => { })
                .UseSetting(WebHostDefaults.ApplicationKey, System.Reflection.Assembly.GetEntryAssembly()!.GetName().Name))
            .ConfigureServices(services => services.AddHostedService<AppService>());

        using var host = hostBuilder.Build();

        Assert.IsType<AutofacServiceProvider>(host.Services);
        Assert.Equal(GracefulRestartRole.Master, host.Services.GetRequiredService<IGracefulRestartContext>().Role);
    }

    [Fact]
    public void AddGracefulRestart_WorkerWithoutServer_DisabledAndAppUntouched()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddGracefulRestart();
        builder.Services.AddHostedService<AppService>();

        using var host = builder.Build();

        Assert.Equal(new GracefulRestartContext(GracefulRestartRole.Disabled, 0), host.Services.GetRequiredService<IGracefulRestartContext>());
        Assert.Equal([typeof(AppService)], host.Services.GetServices<IHostedService>().Select(s => s.GetType()));
    }

    [Fact]
    public void AddGracefulRestart_UnderTestServer_DisabledAndHostedServicesKept()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddGracefulRestart();
        builder.Services.AddHostedService<AppService>();
        builder.WebHost.UseTestServer();

        using var app = builder.Build();

        Assert.Equal(GracefulRestartRole.Disabled, app.Services.GetRequiredService<IGracefulRestartContext>().Role);
        Assert.Contains(builder.Services, d => d.ImplementationType == typeof(AppService));
        Assert.DoesNotContain(builder.Services, d => d.ServiceType == typeof(GracefulRestartSetup));
    }

    [Fact]
    public void AddGracefulRestart_CalledTwice_AppliedOnceWithBothConfigureActions()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddGracefulRestart(options => options.StartTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddGracefulRestart(options => options.Enabled = false);

        using var app = builder.Build();

        Assert.Equal(GracefulRestartRole.Disabled, app.Services.GetRequiredService<IGracefulRestartContext>().Role);
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IGracefulRestartContext));
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GracefulRestartOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(5), options.StartTimeout);
        Assert.False(options.Enabled);
    }

    [Fact]
    public void AddGracefulRestart_ContainerBuiltWithoutHost_FailsNamingTheFix()
    {
        var services = new ServiceCollection();
        services.AddGracefulRestart();
        services.AddHostedService<AppService>();
        using var provider = services.BuildServiceProvider();

        var context = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IGracefulRestartContext>());
        var start = Assert.Throws<InvalidOperationException>(() => provider.GetServices<IHostedService>().ToList());

        Assert.Equal(GracefulRestartSetup.NotAppliedMessage, context.Message);
        Assert.Equal(GracefulRestartSetup.NotAppliedMessage, start.Message);
        Assert.Contains("UseGracefulRestart()", start.Message, StringComparison.Ordinal);
    }

    private sealed record Marker(string Text);

    private sealed class AppService : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
    }
}

using GracefulHosting.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

namespace GracefulHosting.Tests.Hosting;

public class MasterServicesTests
{
    [Fact]
    public void RemoveAppServices_AppServices_AllRemoved()
    {
        var services = new ServiceCollection();
        services.AddHostedService<AppService>();
        services.AddSingleton<IHostedService>(_ => new AppService());
        services.AddSingleton<IHostedService>(new AppService());
        services.AddSingleton<AppService>();

        MasterServices.RemoveAppServices(services);

        Assert.DoesNotContain(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Contains(services, d => d.ServiceType == typeof(AppService));
    }

    [Fact]
    public void RemoveAppServices_OpenTelemetry_HostedServiceKept()
    {
        var services = new ServiceCollection();
        services.AddHostedService<AppService>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter("GracefulHosting"));
        var openTelemetry = Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType != typeof(AppService));

        MasterServices.RemoveAppServices(services);

        Assert.Equal([openTelemetry], services.Where(d => d.ServiceType == typeof(IHostedService)));
    }

    [Fact]
    public void RemoveAppServices_MarkedByAddGracefulRestartMasterService_Kept()
    {
        var services = new ServiceCollection();
        services.AddHostedService<AppService>();
        services.AddGracefulRestartMasterService<MasterToo>();

        MasterServices.RemoveAppServices(services);

        var kept = Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Equal(typeof(MasterToo), kept.ImplementationType);
    }

    [Fact]
    public void IsOpenTelemetry_TypesByAssembly_OnlyOpenTelemetrysOwn()
    {
        Assert.True(MasterServices.IsOpenTelemetry(typeof(MeterProvider)));
        Assert.True(MasterServices.IsOpenTelemetry(typeof(OpenTelemetry.OpenTelemetryBuilderSdkExtensions)));
        Assert.False(MasterServices.IsOpenTelemetry(typeof(AppService)));
        Assert.False(MasterServices.IsOpenTelemetry(typeof(BackgroundService)));
    }

    private sealed class AppService : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
    }

    private sealed class MasterToo : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
    }
}

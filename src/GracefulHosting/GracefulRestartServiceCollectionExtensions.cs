using GracefulHosting;
using GracefulHosting.Hosting;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds zero-downtime restarts to the services of a host.</summary>
public static class GracefulRestartServiceCollectionExtensions
{
    /// <summary>
    /// Runs the app under a master process that owns its listening sockets and restarts it without
    /// dropping a request on <c>SIGHUP</c>. Settings come from the <c>GracefulRestart</c> configuration
    /// section, then <paramref name="configure"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The role is applied when the host is built, after every other registration and before the
    /// container is created, so it works with the default container (and its
    /// <c>UseDefaultServiceProvider</c> options) and with any other, such as Autofac, in either order.
    /// </para>
    /// <para>
    /// On Linux the process becomes the master: it binds the endpoints Kestrel would bind, runs none
    /// of the app's hosted services (except OpenTelemetry's and those added with
    /// <see cref="AddGracefulRestartMasterService{THostedService}"/>) and starts the app again, with the
    /// same command line, as its child. Code in Program.cs before <c>Run()</c> runs in both; ask
    /// <see cref="IGracefulRestartContext"/> to tell them apart. On other systems, under a test host
    /// such as <c>WebApplicationFactory</c>, in an app without a Kestrel server, or with
    /// <c>GracefulRestart:Enabled=false</c>, the app runs as if this call were absent.
    /// </para>
    /// <para>
    /// With <c>WebApplicationBuilder</c> and <c>HostApplicationBuilder</c> call it on
    /// <c>builder.Services</c>; with <c>Host.CreateDefaultBuilder()</c> use
    /// <see cref="GracefulRestartHostBuilderExtensions.UseGracefulRestart(IHostBuilder, Action{GracefulRestartOptions}?)"/>.
    /// A host that is built without applying the role fails at start with an error that says so.
    /// </para>
    /// </remarks>
    /// <param name="services">The services of the host.</param>
    /// <param name="configure">Changes the options after they are bound from configuration.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddGracefulRestart(this IServiceCollection services, Action<GracefulRestartOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        GracefulRestartSetup.Register(services, configure);
        return services;
    }

    /// <summary>
    /// Adds a hosted service that runs in the master too, not only in each generation of the app:
    /// for example one that exports metrics or watches for a new release. It runs wherever the app
    /// runs as well; ask <see cref="IGracefulRestartContext"/> for the role to act in one of them only.
    /// OpenTelemetry's hosted services run in the master without this call.
    /// </summary>
    /// <typeparam name="THostedService">The hosted service.</typeparam>
    /// <param name="services">The services of the host.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddGracefulRestartMasterService<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] THostedService>(this IServiceCollection services)
        where THostedService : class, IHostedService
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHostedService<THostedService>();
        services.AddSingleton(new MasterServiceMarker(typeof(THostedService)));
        return services;
    }
}

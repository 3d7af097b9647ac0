using GracefulHosting.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>Adds zero-downtime restarts to a host.</summary>
public static class GracefulRestartHostBuilderExtensions
{
    /// <summary>
    /// Runs the app under a master process that owns its listening sockets and restarts it without
    /// dropping a request on <c>SIGHUP</c>. Settings come from the <c>GracefulRestart</c> configuration section.
    /// </summary>
    /// <remarks>
    /// The same as <see cref="GracefulRestartServiceCollectionExtensions.AddGracefulRestart"/> on the host's services;
    /// see there for what each role runs. Works with any container, before or after <c>UseServiceProviderFactory</c>.
    /// </remarks>
    /// <param name="hostBuilder">The host builder.</param>
    /// <returns>The same host builder.</returns>
    public static IHostBuilder UseGracefulRestart(this IHostBuilder hostBuilder) =>
        hostBuilder.UseGracefulRestart(configure: null);

    /// <summary>
    /// Runs the app under a master process that owns its listening sockets and restarts it without
    /// dropping a request on <c>SIGHUP</c>. Settings come from the <c>GracefulRestart</c> configuration
    /// section, then <paramref name="configure"/>.
    /// </summary>
    /// <param name="hostBuilder">The host builder.</param>
    /// <param name="configure">Changes the options after they are bound from configuration.</param>
    /// <returns>The same host builder.</returns>
    public static IHostBuilder UseGracefulRestart(this IHostBuilder hostBuilder, Action<GracefulHosting.GracefulRestartOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(hostBuilder);
        // A generic HostBuilder runs ConfigureServices during Build(): listen before it starts.
        HostBuildingHook.EnsureListening();
        return hostBuilder.ConfigureServices((_, services) => services.AddGracefulRestart(configure));
    }
}

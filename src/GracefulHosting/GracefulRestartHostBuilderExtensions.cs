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
    /// On Linux the process becomes the master: it binds the endpoints of the Kestrel configuration,
    /// runs none of the app's hosted services or middleware, and starts the app again, with the same
    /// command line, as its child. Code in Program.cs before <c>Run()</c> runs in both. On other
    /// systems, under <c>WebApplicationFactory</c>/<c>TestServer</c>, or with
    /// <c>GracefulRestart:Enabled=false</c>, the app runs as if this call were absent.
    /// The call replaces the host's service provider factory with the default container.
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
        var setup = new GracefulRestartSetup(configure);
        hostBuilder.ConfigureServices((context, services) => setup.RegisterOptions(services, context.Configuration));
        hostBuilder.UseServiceProviderFactory(context => new GracefulServiceProviderFactory(setup, context));
        return hostBuilder;
    }
}

using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Endpoints;

// Asks the app's own Kestrel what it would bind, without serving: another server with the app's options over a transport that records.
internal sealed class KestrelEndpointProbe
{
    // A Unix socket path no app uses: Kestrel asks for it only when it serves the hosting URLs.
    private const string SentinelUrl = "http://unix:/nonexistent/gracefulhosting-sentinel.sock";

    private readonly IOptionsFactory<KestrelServerOptions> _options;
    private readonly ILoggerFactory _loggers;
    private readonly IConfiguration _configuration;
    private readonly IServiceProvider _services;

    public KestrelEndpointProbe(IOptionsFactory<KestrelServerOptions> options, ILoggerFactory loggers, IConfiguration configuration, IServiceProvider services)
    {
        _options = options;
        _loggers = loggers;
        _configuration = configuration;
        _services = services;
    }

    public HostingAddresses GetHostingAddresses() =>
        HostingAddresses.Resolve(_services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>(), _configuration);

    // So that endpoints Kestrel rejects fail before any socket is asked for, with Kestrel's own message and the settings behind them.
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        var hosting = GetHostingAddresses();
        IConfiguration? kestrel = null;
        try
        {
            await RunCoreAsync(NullLoggerFactory.Instance, hosting, options =>
            {
                kestrel = options.ConfigurationLoader?.Configuration;
                return endpoint => endpoint;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw new InvalidOperationException(
                $"Kestrel cannot start with the app's endpoints ({EndpointSettings.From(kestrel, hosting).DescribeAll(e.Message)}): {e.Message}", e);
        }
    }

    // Asked with a URL no app uses, and with Kestrel's log silenced: its warning that it overrides such a URL would mislead.
    public async Task<bool> UsesHostingUrlsAsync(CancellationToken cancellationToken)
    {
        var hosting = GetHostingAddresses() with { Urls = [SentinelUrl] };
        bool asked = false;
        try
        {
            await RunCoreAsync(NullLoggerFactory.Instance, hosting, _ => endpoint =>
            {
                asked |= endpoint is System.Net.Sockets.UnixDomainSocketEndPoint unix && "http://unix:" + unix == SentinelUrl;
                return endpoint;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // CheckAsync reports what is wrong with the configuration.
        }

        return asked;
    }

    private async Task<IReadOnlyList<string>> RunCoreAsync(ILoggerFactory loggers, HostingAddresses hosting,
        Func<KestrelServerOptions, Func<EndPoint, EndPoint>> transport, CancellationToken cancellationToken)
    {
        var options = _options.Create(Options.DefaultName);
        using var server = CreateServer(options, new ProbeTransport(transport(options)), loggers);
        var addresses = server.Features.Get<IServerAddressesFeature>()!;
        foreach (string url in hosting.Urls)
        {
            addresses.Addresses.Add(url);
        }

        addresses.PreferHostingUrls = hosting.PreferHostingUrls;
        await server.StartAsync(new UnservedApplication(), cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> bound = [.. addresses.Addresses];
        await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        return bound;
    }

    // The app's own kind of server, from its container: KestrelServer's public constructor makes a meter per server, never released.
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2072",
        Justification = "The type is that of the IServer the app's container has built; its registration (AddSingleton<IServer, TImplementation>) keeps the type's public constructors.")]
    private IServer CreateServer(KestrelServerOptions options, ProbeTransport transport, ILoggerFactory loggers)
    {
        if (_services.GetService<IServer>()?.GetType() is { } kind)
        {
            try
            {
                return (IServer)ActivatorUtilities.CreateInstance(_services, kind,
                    Options.Create(options), new IConnectionListenerFactory[] { transport }, Array.Empty<IMultiplexedConnectionListenerFactory>(), loggers);
            }
            catch (InvalidOperationException)
            {
                // Not a server built from these parts.
            }
        }

        return new KestrelServer(Options.Create(options), transport, loggers);
    }

    // The probe's Kestrel accepts no connection, so it never calls this.
    private sealed class UnservedApplication : IHttpApplication<object>
    {
        public object CreateContext(IFeatureCollection contextFeatures) =>
            throw new InvalidOperationException("The GracefulHosting master serves no requests.");

        public Task ProcessRequestAsync(object context) =>
            throw new InvalidOperationException("The GracefulHosting master serves no requests.");

        public void DisposeContext(object context, Exception? exception)
        {
        }
    }
}

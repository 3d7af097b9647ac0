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

/// <summary>
/// Asks the app's own Kestrel, without serving, whether it would serve the hosting URLs: it starts
/// another <see cref="KestrelServer"/> with freshly built options of the app (its <c>ConfigureKestrel</c>,
/// <c>Listen*</c> calls and <c>Kestrel:Endpoints</c>) over a transport that only records what Kestrel
/// asks for. Its application is never called.
/// </summary>
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

    /// <summary>The hosting URLs of the app now: those it set on its server, else those of its configuration.</summary>
    public HostingAddresses GetHostingAddresses() =>
        HostingAddresses.Resolve(_services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>(), _configuration);

    /// <summary>
    /// Starts the app's Kestrel once over a transport that binds nothing, so that endpoints Kestrel rejects
    /// (an invalid URL, a scheme it does not serve, a dynamic port on <c>localhost</c>) fail before any
    /// socket is asked for, with Kestrel's own message and the settings that name the endpoints.
    /// </summary>
    /// <exception cref="InvalidOperationException">Kestrel cannot start with these endpoints.</exception>
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

    /// <summary>
    /// True when Kestrel would serve the hosting URLs, that is when neither code nor <c>Kestrel:Endpoints</c>
    /// name endpoints (or <c>PreferHostingUrls</c> is set). Kestrel is asked with a URL no app uses, and
    /// with its log silenced, since the warning that it overrides such a URL would mislead.
    /// </summary>
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

    /// <summary>
    /// Another server of the app's own kind, built by its container with these options, this transport
    /// and no QUIC transport: with the HTTPS configuration service and the metrics of a plain run. The
    /// public <see cref="KestrelServer"/> constructor serves when the app's server cannot be built so;
    /// it creates a meter per server that is never released, so it is not the first choice.
    /// </summary>
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

    /// <summary>The application of the probe's Kestrel, which accepts no connection and so never calls it.</summary>
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

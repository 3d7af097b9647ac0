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
/// Lets the app's own Kestrel decide which sockets to bind, without serving: each run starts a new
/// <see cref="KestrelServer"/> with freshly built options of the app (its <c>ConfigureKestrel</c>,
/// <c>Listen*</c> calls and <c>Kestrel:Endpoints</c>, with certificates and protocols) and the
/// hosting URLs the app's web host would give it, over a transport that only records what Kestrel
/// asks for. Its application is never called, and stopping it leaves every socket open. Running it
/// again after the configuration was reloaded gives the endpoints of the new configuration.
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
    /// Runs Kestrel once. <paramref name="transport"/> gets the app's endpoint settings and returns the
    /// function that finds or binds the socket for each endpoint Kestrel asks for. When the app names
    /// no hosting URLs, <paramref name="fallbackUrls"/> stand in for them. Returns the addresses
    /// Kestrel reports, as <c>IServerAddressesFeature</c> would in a plain run.
    /// </summary>
    /// <exception cref="InvalidOperationException">Kestrel could not start; the message says why and names the setting.</exception>
    public async Task<IReadOnlyList<string>> RunAsync(Func<EndpointSettings, Func<EndPoint, EndPoint>> transport, IReadOnlyList<string> fallbackUrls, CancellationToken cancellationToken)
    {
        var failures = new List<Exception>();
        var hosting = new HostingAddresses([], false, "urls");
        EndpointSettings? settings = null;
        try
        {
            hosting = GetHostingAddresses();
            if (hosting.Urls.Count == 0 && fallbackUrls.Count > 0)
            {
                hosting = hosting with { Urls = fallbackUrls, Source = "the sockets systemd passed" };
            }

            return await RunCoreAsync(_loggers, hosting, options =>
            {
                settings = EndpointSettings.From(options.ConfigurationLoader?.Configuration, hosting);
                var bind = transport(settings);
                return endpoint =>
                {
                    try
                    {
                        return bind(endpoint);
                    }
                    catch (Exception e)
                    {
                        failures.Add(e);
                        throw;
                    }
                };
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Our own bind error says it best; Kestrel wraps some of them (address in use, localhost).
            var own = Flatten(e).FirstOrDefault(failures.Contains);
            if (own is not null)
            {
                throw new InvalidOperationException(own.Message, e);
            }

            settings ??= EndpointSettings.From(null, hosting);
            throw new InvalidOperationException(
                $"Kestrel cannot start with the app's endpoints ({settings.DescribeAll(e.Message)}): {e.Message}", e);
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
            // The real run reports what is wrong with the configuration.
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

    private static IEnumerable<Exception> Flatten(Exception exception)
    {
        var pending = new Queue<Exception>([exception]);
        while (pending.TryDequeue(out var next))
        {
            yield return next;
            if (next is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Enqueue(inner);
                }
            }
            else if (next.InnerException is { } inner)
            {
                pending.Enqueue(inner);
            }
        }
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

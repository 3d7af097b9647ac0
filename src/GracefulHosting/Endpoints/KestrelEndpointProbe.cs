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

// Asks the app's own Kestrel what it would serve, without serving: another server with the app's options over a transport that binds nothing.
internal sealed class KestrelEndpointProbe
{
    // A Unix socket path no app uses: Kestrel asks for it only when it serves the hosting URLs.
    private const string SentinelUrl = "http://unix:/nonexistent/gracefulhosting-sentinel.sock";
    // Kestrel answers from memory; an endpoint whose answer takes longer stays unknown.
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private static readonly Child.Warmup.WarmupRequest AskRequest = new("probe", "GET", "/", [], null, 1);

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

    // Endpoints Kestrel rejects fail before any socket is asked for, with Kestrel's own message and their settings; meanwhile
    // each plain endpoint's protocols, which code or configuration may set where the library reads none, are found by asking.
    public async Task<IReadOnlyDictionary<(string Endpoint, int Occurrence), HttpProtocols>> CheckAsync(CancellationToken cancellationToken)
    {
        var hosting = GetHostingAddresses();
        IConfiguration? kestrel = null;
        IReadOnlyDictionary<(string Endpoint, int Occurrence), HttpProtocols> found = new Dictionary<(string Endpoint, int Occurrence), HttpProtocols>();
        try
        {
            await RunCoreAsync(NullLoggerFactory.Instance, hosting, options =>
            {
                kestrel = options.ConfigurationLoader?.Configuration;
                return endpoint => endpoint;
            }, async (transport, addresses) => found = await FindProtocolsAsync(transport, addresses, cancellationToken).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw new InvalidOperationException(
                $"Kestrel cannot start with the app's endpoints ({EndpointSettings.From(kestrel, hosting).DescribeAll(e.Message)}): {e.Message}", e);
        }

        return found;
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
            }, running: null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // CheckAsync reports what is wrong with the configuration.
        }

        return asked;
    }

    private async Task RunCoreAsync(ILoggerFactory loggers, HostingAddresses hosting, Func<KestrelServerOptions, Func<EndPoint, EndPoint>> transport,
        Func<ProbeTransport, IReadOnlyList<string>, Task>? running, CancellationToken cancellationToken)
    {
        var options = _options.Create(Options.DefaultName);
        var probeTransport = new ProbeTransport(transport(options));
        using var server = CreateServer(options, probeTransport, loggers);
        var addresses = server.Features.Get<IServerAddressesFeature>()!;
        foreach (string url in hosting.Urls)
        {
            addresses.Addresses.Add(url);
        }

        addresses.PreferHostingUrls = hosting.PreferHostingUrls;
        await server.StartAsync(new ProbeApplication(), cancellationToken).ConfigureAwait(false);
        try
        {
            if (running is not null)
            {
                await running(probeTransport, [.. addresses.Addresses]).ConfigureAwait(false);
            }
        }
        finally
        {
            await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    // One GET per plain listener: an HTTP/2-only endpoint rejects HTTP/1.1 and the client repeats it over HTTP/2, so the answer's protocol is the endpoint's.
    private static async Task<IReadOnlyDictionary<(string Endpoint, int Occurrence), HttpProtocols>> FindProtocolsAsync(ProbeTransport transport,
        IReadOnlyList<string> urls, CancellationToken cancellationToken)
    {
        var found = new Dictionary<(string Endpoint, int Occurrence), HttpProtocols>();
        var asked = new Dictionary<string, int>();
        foreach (var listener in transport.Listeners)
        {
            string text = EndpointText.Format(listener.Asked)!;
            int occurrence = asked.TryGetValue(text, out int count) ? count : 0;
            asked[text] = occurrence + 1;
            // Two endpoints Kestrel asks for by the same text (port 0 twice) report the same URL; one of another scheme leaves both unknown.
            var schemes = EndpointText.Matches(urls, listener.EndPoint).Select(m => m.Address.Scheme).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (schemes is [var scheme] && scheme.Equals("http", StringComparison.OrdinalIgnoreCase) &&
                await AskAsync(listener, cancellationToken).ConfigureAwait(false) is { } protocols)
            {
                found[(text, occurrence)] = protocols;
            }
        }

        return found;
    }

    private static async Task<HttpProtocols?> AskAsync(ProbeTransport.Listener listener, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(AskTimeout);
        using var client = new Child.Warmup.WarmupClient(_ => ValueTask.FromResult(Child.Warmup.InMemoryConnection.Open("probe", listener.EndPoint, listener.Hand)), tls: false);
        try
        {
            var result = await client.SendAsync([AskRequest], tls: false, protocols: null, timeout.Token).ConfigureAwait(false);
            return result.Protocol switch
            {
                "HTTP/2" => HttpProtocols.Http2,
                "HTTP/1.1" => HttpProtocols.Http1,
                _ => null,
            };
        }
        catch (Exception e) when (e is HttpRequestException or IOException || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Something between Kestrel and its HTTP layer (the app's connection middleware) kept the answer back.
            return null;
        }
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

    // Answers the probe's own requests, the only ones that reach it, with an empty 200; never runs the app's pipeline.
    private sealed class ProbeApplication : IHttpApplication<object>
    {
        public object CreateContext(IFeatureCollection contextFeatures) => contextFeatures;

        public Task ProcessRequestAsync(object context) => Task.CompletedTask;

        public void DisposeContext(object context, Exception? exception)
        {
        }
    }
}

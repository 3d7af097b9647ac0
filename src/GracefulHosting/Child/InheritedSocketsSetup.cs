using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Child;

/// <summary>
/// Runs before the web host starts Kestrel (every <c>StartingAsync</c> runs before any hosted service's
/// <c>StartAsync</c>), and checks that Kestrel accepts the app's endpoints, finding what each plain one
/// speaks for the warm-up (<see cref="EndpointProtocols"/>). Under socket activation, when the app names no URLs and no endpoints of its own,
/// it gives the server the URLs of systemd's sockets in place of Kestrel's default, as a plain run
/// under systemd would need them.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class InheritedSocketsSetup : IHostedLifecycleService
{
    private readonly IReadOnlyList<string> _systemdUrls;
    private readonly IServer _server;
    private readonly IConfiguration _configuration;
    private readonly ILogger _logger;
    private readonly KestrelEndpointProbe _probe;
    private readonly EndpointProtocols _protocols;

    /// <param name="systemdUrls">The URLs of systemd's sockets; empty without socket activation.</param>
    /// <param name="server">The app's server, whose hosting URLs may be set here.</param>
    /// <param name="configuration">The app's configuration.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="probe">Asks the app's Kestrel whether it would serve the hosting URLs, and what each endpoint speaks.</param>
    /// <param name="protocols">Where what each plain endpoint speaks is kept for the warm-up.</param>
    public InheritedSocketsSetup(IReadOnlyList<string> systemdUrls, IServer server, IConfiguration configuration, ILogger<InheritedSocketsSetup> logger,
        KestrelEndpointProbe probe, EndpointProtocols protocols)
    {
        _systemdUrls = systemdUrls;
        _server = server;
        _configuration = configuration;
        _logger = logger;
        _probe = probe;
        _protocols = protocols;
    }

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var addresses = _server.Features.Get<IServerAddressesFeature>();
        if (_systemdUrls.Count > 0 && addresses is not null && !addresses.Addresses.IsReadOnly &&
            HostingAddresses.Resolve(addresses, _configuration).Urls.Count == 0 &&
            await _probe.UsesHostingUrlsAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (string url in _systemdUrls)
            {
                addresses.Addresses.Add(url);
            }

            EndpointLog.SystemdSocketsAsUrls(_logger, string.Join(", ", _systemdUrls));
        }

        // Endpoints Kestrel rejects fail here, naming their settings, before any socket is asked for.
        _protocols.Record(await _probe.CheckAsync(cancellationToken).ConfigureAwait(false));
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

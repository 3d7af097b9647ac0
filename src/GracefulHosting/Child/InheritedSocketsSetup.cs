using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Systemd;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Child;

/// <summary>
/// Readies the inherited sockets before the web host starts Kestrel (every <c>StartingAsync</c> runs
/// before any hosted service's <c>StartAsync</c>). In Direct mode it matches systemd's sockets to the
/// endpoints the app's Kestrel asks for, as a master does. When systemd's sockets stand in for the
/// app's hosting URLs (the app names none), it gives the server their URLs, so that this process's
/// Kestrel asks for the same endpoints as the master's.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class InheritedSocketsSetup : IHostedLifecycleService
{
    private readonly InheritedSockets _sockets;
    private readonly IServer _server;
    private readonly IConfiguration _configuration;
    private readonly ILogger _logger;
    private readonly KestrelEndpointProbe? _probe;
    private readonly SocketActivation? _activation;

    /// <param name="sockets">The inherited sockets.</param>
    /// <param name="server">The app's server, whose hosting URLs may be set here.</param>
    /// <param name="configuration">The app's configuration.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="probe">Direct mode only: asks the app's Kestrel which endpoints it binds.</param>
    /// <param name="activation">Direct mode only: the sockets systemd passed.</param>
    public InheritedSocketsSetup(InheritedSockets sockets, IServer server, IConfiguration configuration, ILogger<InheritedSocketsSetup> logger,
        KestrelEndpointProbe? probe = null, SocketActivation? activation = null)
    {
        _sockets = sockets;
        _server = server;
        _configuration = configuration;
        _logger = logger;
        _probe = probe;
        _activation = activation;
    }

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var urls = _sockets.Marker.HostingUrls;
        if (_probe is not null && _activation is not null)
        {
            var plan = await ActivatedSockets.PlanAsync(_probe, _activation, cancellationToken).ConfigureAwait(false);
            plan.LogAndReleaseUnused(_logger);
            _sockets.Adopt(plan.Adopted.Select(a => new InheritedListener(a.Socket.Activated.Fd, a.Endpoint)).ToList());
            foreach (var adopted in plan.Adopted)
            {
                // Only the view: the descriptor is Kestrel's now, and closed with close(2) when it stops.
                adopted.Socket.Socket.Dispose();
            }

            urls = plan.HostingUrls;
        }

        var addresses = _server.Features.Get<IServerAddressesFeature>();
        if (urls.Count > 0 && addresses is not null && !addresses.Addresses.IsReadOnly &&
            HostingAddresses.Resolve(addresses, _configuration).Urls.Count == 0)
        {
            foreach (string url in urls)
            {
                addresses.Addresses.Add(url);
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

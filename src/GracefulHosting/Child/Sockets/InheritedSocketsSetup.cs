using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Child.Sockets;

// Every StartingAsync runs before any StartAsync, so this runs before the web host starts Kestrel; it also
// finds what each plain endpoint speaks, for the warm-up.
[SupportedOSPlatform("linux")]
internal sealed class InheritedSocketsSetup : IHostedLifecycleService
{
    private readonly IReadOnlyList<string> _systemdUrls;
    private readonly IServer _server;
    private readonly IConfiguration _configuration;
    private readonly ILogger _logger;
    private readonly KestrelEndpointProbe _probe;
    private readonly EndpointProtocols _protocols;

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
        // Under socket activation, an app that names no URLs serves on systemd's sockets, as a plain run under systemd would.
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

using GracefulHosting.Child;
using GracefulHosting.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulHosting.Diagnostics;

/// <summary>
/// Unhealthy while this generation drains because the service stops, so load balancers and readiness
/// probes stop sending it new work. While it drains for a restart the next generation serves on the
/// same sockets, so the service stays healthy (each answer then carries <c>Connection: close</c>).
/// </summary>
internal sealed class GracefulRestartHealthCheck : IHealthCheck
{
    private readonly GracefulRestartContext _context;
    private readonly DrainState? _drain;
    private readonly InheritedSockets? _sockets;

    public GracefulRestartHealthCheck(GracefulRestartContext context, DrainState? drain = null, InheritedSockets? sockets = null)
    {
        _context = context;
        _drain = drain;
        _sockets = sockets;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["pid"] = Environment.ProcessId,
            ["role"] = _context.Role.ToString().ToLowerInvariant(),
            ["generation"] = _context.Generation,
        };

        if (_drain is not { IsDraining: true })
        {
            return Task.FromResult(HealthCheckResult.Healthy("Serving.", data));
        }

        return Task.FromResult(Stops(_sockets)
            ? HealthCheckResult.Unhealthy("Draining: the service is stopping and takes no new work.", data: data)
            : HealthCheckResult.Healthy("Restarting: the next generation serves; this one finishes its work.", data));
    }

    /// <summary>
    /// True when a drain of this generation is the service stopping, false when it is a restart: the
    /// master said so (RESTART=1) before its SIGTERM. Without a master (Direct mode) a drain is a stop.
    /// </summary>
    internal static bool Stops(InheritedSockets? sockets) =>
        !(OperatingSystem.IsLinux() && sockets?.Source is Child.Sockets.MasterChannel { RestartAnnounced: true });
}

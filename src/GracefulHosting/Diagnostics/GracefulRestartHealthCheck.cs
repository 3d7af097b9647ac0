using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Sockets;
using GracefulHosting.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulHosting.Diagnostics;

// Unhealthy only when the service stops: during a restart the next generation serves on the same sockets.
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

    // The master says RESTART=1 before a restart's SIGTERM; without a master (Direct mode) every drain is a stop.
    internal static bool Stops(InheritedSockets? sockets) =>
        !(OperatingSystem.IsLinux() && sockets?.Source is Child.Sockets.MasterChannel { RestartAnnounced: true });
}

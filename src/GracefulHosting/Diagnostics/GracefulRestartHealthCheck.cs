using GracefulHosting.Child;
using GracefulHosting.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulHosting.Diagnostics;

/// <summary>
/// Unhealthy while this generation drains, so load balancers and readiness probes stop sending it
/// new work; healthy otherwise.
/// </summary>
internal sealed class GracefulRestartHealthCheck : IHealthCheck
{
    private readonly GracefulRestartContext _context;
    private readonly DrainState? _drain;

    public GracefulRestartHealthCheck(GracefulRestartContext context, DrainState? drain = null)
    {
        _context = context;
        _drain = drain;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["pid"] = Environment.ProcessId,
            ["role"] = _context.Role.ToString().ToLowerInvariant(),
            ["generation"] = _context.Generation,
        };

        return Task.FromResult(_drain is { IsDraining: true }
            ? HealthCheckResult.Unhealthy("Draining: this generation is stopping and takes no new work.", data: data)
            : HealthCheckResult.Healthy("Serving.", data));
    }
}

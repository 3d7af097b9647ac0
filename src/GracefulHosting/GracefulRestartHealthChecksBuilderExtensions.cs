using GracefulHosting.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Health checks for apps that use <c>UseGracefulRestart()</c>.</summary>
public static class GracefulRestartHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds the check <c>graceful-restart</c>: Unhealthy while this generation of the app drains
    /// because the service stops, Healthy otherwise (also while it drains for a restart, since the next
    /// generation serves). Map it to the path your load balancer or Kubernetes readiness probe polls, for
    /// example <c>app.MapHealthChecks("/healthz")</c>. When a stop begins, the app's health is also
    /// published at once to its health check publishers (<see cref="IHealthCheckPublisher"/>), such as the
    /// gRPC health service's cache, rather than at their next period.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="tags">Tags for the check, for filtering (for example <c>"ready"</c>).</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddGracefulRestartChecks(this IHealthChecksBuilder builder, params string[] tags)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHostedService<StopHealthPublisher>();
        return builder.AddCheck<GracefulRestartHealthCheck>("graceful-restart", HealthStatus.Unhealthy, tags);
    }
}

using GracefulHosting.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Health checks for apps that use <c>UseGracefulRestart()</c>.</summary>
public static class GracefulRestartHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds the check <c>graceful-restart</c>: Unhealthy while this generation of the app drains
    /// after a restart or stop, Healthy otherwise. Map it to the path your load balancer or
    /// Kubernetes readiness probe polls, for example <c>app.MapHealthChecks("/healthz")</c>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="tags">Tags for the check, for filtering (for example <c>"ready"</c>).</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddGracefulRestartChecks(this IHealthChecksBuilder builder, params string[] tags)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<GracefulRestartHealthCheck>("graceful-restart", HealthStatus.Unhealthy, tags);
    }
}

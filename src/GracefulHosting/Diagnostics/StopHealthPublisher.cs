using System.Diagnostics;
using GracefulHosting.Child;
using GracefulHosting.Child.Drain;
using GracefulHosting.Child.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Diagnostics;

// When the service stops (not on a restart), publishes health at once, so that Unhealthy reaches every
// IHealthCheckPublisher (the gRPC health cache among them) while the generation drains, not at their next period.
internal sealed class StopHealthPublisher : BackgroundService
{
    private readonly HealthCheckService _health;
    private readonly IHealthCheckPublisher[] _publishers;
    private readonly HealthCheckPublisherOptions _options;
    private readonly DrainState? _drain;
    private readonly InheritedSockets? _sockets;
    private readonly ILogger _logger;

    public StopHealthPublisher(HealthCheckService health, IEnumerable<IHealthCheckPublisher> publishers, IOptions<HealthCheckPublisherOptions> options,
        ILogger<StopHealthPublisher> logger, DrainState? drain = null, InheritedSockets? sockets = null)
    {
        _health = health;
        _publishers = [.. publishers];
        _options = options.Value;
        _logger = logger;
        _drain = drain;
        _sockets = sockets;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_drain is null || _publishers.Length == 0)
        {
            return;
        }

        try
        {
            await _drain.Began.WaitAsync(stoppingToken).ConfigureAwait(false);
            if (!GracefulRestartHealthCheck.Stops(_sockets))
            {
                return;
            }

            long began = Stopwatch.GetTimestamp();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(_options.Timeout);
            var report = await _health.CheckHealthAsync(_options.Predicate, timeout.Token).ConfigureAwait(false);
            var published = await Task.WhenAll(_publishers.Select(p => PublishAsync(p, report, timeout.Token))).ConfigureAwait(false);
            ChildLog.HealthPublishedOnStop(_logger, report.Status.ToString(), published.Count(p => p), _publishers.Length,
                Stopwatch.GetElapsedTime(began).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host stopped first: the process is about to exit.
        }
    }

    // False when the publisher failed; its own period still publishes later.
    private async Task<bool> PublishAsync(IHealthCheckPublisher publisher, HealthReport report, CancellationToken cancellationToken)
    {
        try
        {
            await publisher.PublishAsync(report, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e)
        {
            // Whatever the app's publisher throws must not stop the host (a background service's exception
            // would) nor keep the report from the other publishers.
            ChildLog.HealthPublishOnStopFailed(_logger, publisher.GetType().Name, e);
            return false;
        }
    }
}

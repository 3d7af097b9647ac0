using Microsoft.Extensions.Options;

namespace HelloGraceful;

/// <summary>
/// Simulates a slow start (cache priming, JIT, connection pools). It runs before Kestrel starts,
/// so the app is neither serving nor ready until it ends. It can also simulate a slow stop.
/// </summary>
public sealed partial class WarmupService(IOptions<HelloOptions> options, ILogger<WarmupService> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        int milliseconds = options.Value.WarmupMilliseconds;
        if (milliseconds > 0)
        {
            LogWarmup(logger, milliseconds);
            await Task.Delay(milliseconds, cancellationToken);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Ignores cancellationToken on purpose: this is the job that overruns its deadline.
        int milliseconds = options.Value.StopDelayMilliseconds;
        if (milliseconds > 0)
        {
            await Task.Delay(milliseconds, CancellationToken.None);
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Warming up for {Milliseconds} ms")]
    private static partial void LogWarmup(ILogger logger, int milliseconds);
}

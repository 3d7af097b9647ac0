using Microsoft.Extensions.Options;

namespace HelloGraceful;

/// <summary>
/// Simulates a slow start (cache priming, JIT, connection pools). It runs before Kestrel starts,
/// so the app is neither serving nor ready until it ends.
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

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Warming up for {Milliseconds} ms")]
    private static partial void LogWarmup(ILogger logger, int milliseconds);
}

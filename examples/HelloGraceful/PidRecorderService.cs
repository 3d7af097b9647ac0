using Microsoft.Extensions.Options;

namespace HelloGraceful;

/// <summary>A background job of the app. It must run in each child, never in the master.</summary>
public sealed class PidRecorderService(IOptions<HelloOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string? file = options.Value.BackgroundPidFile;
        if (!string.IsNullOrEmpty(file))
        {
            await File.AppendAllTextAsync(file, $"{Environment.ProcessId}\n", stoppingToken);
        }
    }
}

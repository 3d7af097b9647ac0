namespace WorkerApp;

public sealed partial class Worker(ILogger<Worker> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, Environment.ProcessId);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker started in pid {Pid}")]
    private static partial void LogStarted(ILogger logger, int pid);
}

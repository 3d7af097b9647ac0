using Autofac;

namespace AutofacApp;

public sealed class Greeter
{
    public string Greet() => "Hello";
}

public sealed class GreetingModule : Module
{
    protected override void Load(ContainerBuilder builder) => builder.RegisterType<Greeter>().SingleInstance();
}

/// <summary>The app's own background work: it must run in each generation, never in the master.</summary>
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

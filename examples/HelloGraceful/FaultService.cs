using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace HelloGraceful;

/// <summary>
/// Fault hooks for the fault-injection tests (see <see cref="HelloOptions"/>): a start-up that throws
/// or exits early, a crash while serving, and a process that ignores SIGTERM. All are off by default.
/// As a hosted service it runs only where the app runs: in children, never in the master.
/// </summary>
public sealed partial class FaultService(IOptions<HelloOptions> options, IHostApplicationLifetime lifetime, ILogger<FaultService> logger)
    : IHostedLifecycleService
{
    private const int SIGTERM = 15;
    private static readonly nint SIG_IGN = 1;

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        int exitEarly = options.Value.ExitEarlyMilliseconds;
        if (exitEarly > 0)
        {
            await Task.Delay(exitEarly, cancellationToken);
            LogFault(logger, "ExitEarlyMilliseconds: exiting with code 0 before the app is ready");
            Environment.Exit(0);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.ThrowOnStartup)
        {
            throw new InvalidOperationException("HelloGraceful:ThrowOnStartup is set: start-up fails.");
        }

        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (options.Value.IgnoreSigterm && OperatingSystem.IsLinux())
        {
            Signal(SIGTERM, SIG_IGN);
            LogFault(logger, "IgnoreSigterm: SIGTERM is ignored from now on");
        }

        int crashAfter = options.Value.CrashAfterMilliseconds;
        if (crashAfter > 0)
        {
            // Counted from ApplicationStarted, when Kestrel accepts. A child reports READY=1 then, or after
            // its warm-up requests if GracefulRestart:WarmupPath is set.
            lifetime.ApplicationStarted.Register(() => new Thread(() =>
            {
                Thread.Sleep(crashAfter);
                LogFault(logger, "CrashAfterMilliseconds: crashing with an unhandled exception");
                throw new InvalidOperationException("HelloGraceful:CrashAfterMilliseconds: simulated crash.");
            })
            { IsBackground = true, Name = "HelloGraceful crash" }.Start());
        }

        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint Signal(int signal, nint handler);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Fault hook HelloGraceful:{Fault}")]
    private static partial void LogFault(ILogger logger, string fault);
}

using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GracefulHosting.Systemd;

// Decides what to tell systemd and when; Microsoft.Extensions.Hosting.Systemd's SystemdNotifier sends it, also to an abstract @ socket.
internal sealed class ServiceNotifier : IDisposable
{
    private readonly ISystemdNotifier _notifier;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ITimer? _watchdog;
    private bool _stopping;

    public ServiceNotifier(ISystemdNotifier notifier, TimeProvider time, ILogger? logger = null)
    {
        _notifier = notifier;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
    }

    public bool IsEnabled => _notifier.IsEnabled;

    // Only if WATCHDOG_PID, when set, names this process.
    public static TimeSpan? WatchdogInterval(int pid, string? watchdogUsec, string? watchdogPid)
    {
        if (!long.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out long usec) || usec <= 0)
        {
            return null;
        }

        if (watchdogPid is not null && (!int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out int forPid) || forPid != pid))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(usec);
    }

    public void StartWatchdogIfAsked()
    {
        if (WatchdogInterval(Environment.ProcessId,
                Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID")) is { } interval)
        {
            StartWatchdog(interval);
        }
    }

    // At half the interval systemd asked for.
    private void StartWatchdog(TimeSpan interval)
    {
        if (!IsEnabled)
        {
            return;
        }

        var period = interval / 2;
        _watchdog = _time.CreateTimer(_ => Send("WATCHDOG=1"), null, TimeSpan.Zero, period);
    }

    public void Ready(string status) => SendUnlessStopping($"READY=1\nSTATUS={status}");

    public void Reloading(string status) =>
        SendUnlessStopping($"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds().ToString(CultureInfo.InvariantCulture)}\nSTATUS={status}");

    public void Status(string status) => SendUnlessStopping($"STATUS={status}");

    // Nothing but watchdog pings follows, so that no restart that ends meanwhile looks like a start.
    public void Stopping(string status)
    {
        Volatile.Write(ref _stopping, true);
        Send($"STOPPING=1\nSTATUS={status}");
    }

    private void SendUnlessStopping(string message)
    {
        if (!Volatile.Read(ref _stopping))
        {
            Send(message);
        }
    }

    // .NET's timestamp on Linux is CLOCK_MONOTONIC.
    internal static long MonotonicMicroseconds() =>
        (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));

    // A notification is never worth a failure of the step that sends it (a restart, a watchdog tick): log the error and drop it.
    private void Send(string message)
    {
        if (!_notifier.IsEnabled)
        {
            return;
        }

        try
        {
            _notifier.Notify(new ServiceState(message));
        }
        catch (Exception e)
        {
            SystemdLog.NotifyFailed(_logger, message.Split('\n')[0], e.Message);
        }
    }

    public void Dispose() => _watchdog?.Dispose();
}

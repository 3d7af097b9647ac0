using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GracefulHosting.Systemd;

/// <summary>
/// The master's (or a Direct-mode app's) messages to systemd over <c>NOTIFY_SOCKET</c>, including
/// the abstract <c>@</c> form: <c>READY=1</c>, <c>RELOADING=1</c> with <c>MONOTONIC_USEC=</c>,
/// <c>STOPPING=1</c>, <c>STATUS=</c> and watchdog pings. Sending is Microsoft.Extensions.Hosting.Systemd's
/// <see cref="SystemdNotifier"/>; this class only decides what to say and when.
/// </summary>
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

    /// <summary>The watchdog interval systemd asked for (<c>WATCHDOG_USEC</c>), if it is meant for this process.</summary>
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

    /// <summary>Pings the watchdog if systemd asked this process for it (<c>WATCHDOG_USEC</c>, <c>WATCHDOG_PID</c>).</summary>
    public void StartWatchdogIfAsked()
    {
        if (WatchdogInterval(Environment.ProcessId,
                Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID")) is { } interval)
        {
            StartWatchdog(interval);
        }
    }

    /// <summary>Pings the watchdog at half the interval systemd asked for.</summary>
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

    /// <summary>Says the service stops; nothing but watchdog pings follows it, so no restart that ends meanwhile looks like a start.</summary>
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

    /// <summary>CLOCK_MONOTONIC in microseconds; .NET's timestamp on Linux is that clock.</summary>
    internal static long MonotonicMicroseconds() =>
        (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));

    /// <summary>
    /// Sends one message. A notification is never worth a failure of the step that sends it (a restart,
    /// a watchdog tick on a timer thread), so an error is logged and the message dropped.
    /// </summary>
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

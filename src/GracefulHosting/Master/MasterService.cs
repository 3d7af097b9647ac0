using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading.Channels;
using GracefulHosting.Endpoints;
using GracefulHosting.Systemd;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Master;

/// <summary>
/// The supervisor that runs in the master instead of the app: it owns the listening sockets,
/// starts each generation of the app as a child, restarts on the restart signal and replaces
/// children that crash.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class MasterService : IHostedService, IDisposable
{
    private readonly GracefulRestartOptions _options;
    private readonly IConfiguration _configuration;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ChildCommand _command;
    private readonly ServiceNotifier _notifier;
    private readonly Diagnostics.MasterMetrics _metrics;
    private readonly KestrelEndpointProbe _endpoints;
    private readonly CancellationTokenSource _stopping = new();
    // FullMode Wait, not DropWrite: TryWrite then returns false for a request that finds one pending,
    // so RequestRestart can log it as coalesced (DropWrite drops it and still returns true).
    private readonly Channel<bool> _restartRequests = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.Wait });
    private readonly List<ChildProcess> _retiring = [];
    private readonly Lock _childrenLock = new();

    private ListenSocketSet? _sockets;
    private PosixSignalRegistration? _restartSignal;
    private ChildProcess? _current;
    private ChildProcess? _starting;
    private Task _supervision = Task.CompletedTask;
    private int _generation;
    private int _consecutiveCrashes;
    private string? _lastStartFailure;

    public MasterService(
        IOptions<GracefulRestartOptions> options,
        IConfiguration configuration,
        IHostApplicationLifetime lifetime,
        ILogger<MasterService> logger,
        TimeProvider time,
        ChildCommand command,
        ServiceNotifier notifier,
        Diagnostics.MasterMetrics metrics,
        KestrelEndpointProbe endpoints)
    {
        _endpoints = endpoints;
        _notifier = notifier;
        _metrics = metrics;
        _options = options.Value;
        _configuration = configuration;
        _lifetime = lifetime;
        _logger = logger;
        _time = time;
        _command = command;
    }

    /// <summary>The generation that serves now, for tests and status.</summary>
    internal ChildProcess? Current => _current;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var activation = SocketActivation.FromEnvironment(Environment.ProcessId, out string? ignored);
        if (ignored is not null)
        {
            MasterLog.SocketActivationIgnored(_logger, ignored);
        }

        _sockets = activation is null
            ? await ListenSocketSet.BindAsync(_endpoints, _logger, cancellationToken).ConfigureAwait(false)
            : await ListenSocketSet.AdoptAsync(_endpoints, activation, _logger, cancellationToken).ConfigureAwait(false);
        MasterLog.MasterStarting(_logger, Environment.ProcessId, _sockets.Listeners.Count, _options.Strategy);

        RestartSignals.TryParse(_options.RestartSignal, out int signal);
        _restartSignal = PosixSignalRegistration.Create((PosixSignal)signal, context =>
        {
            context.Cancel = true;
            RequestRestart();
        });

        var first = await StartGenerationAsync(cancellationToken).ConfigureAwait(false);
        if (first is null && cancellationToken.IsCancellationRequested)
        {
            return;
        }

        if (first is null)
        {
            throw new InvalidOperationException(
                "The first generation of the app did not become ready; the master stops. See the log above for the reason.");
        }

        _current = first;
        _metrics.GenerationServing(first.Generation);
        _notifier.Ready(Describe(first));
        if (ServiceNotifier.WatchdogInterval(Environment.ProcessId,
                Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID")) is { } watchdog)
        {
            _notifier.StartWatchdog(watchdog);
        }

        _supervision = Task.Run(() => SuperviseAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Asks for a restart. Requests that arrive during a restart are coalesced into one.</summary>
    public void RequestRestart()
    {
        if (_restartRequests.Writer.TryWrite(true))
        {
            MasterLog.RestartRequested(_logger, _options.RestartSignal);
        }
        else
        {
            MasterLog.RestartCoalesced(_logger);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        MasterLog.MasterStopping(_logger);
        _notifier.Stopping("Stopping every generation");
        _stopping.Cancel();
        _restartSignal?.Dispose();
        _restartSignal = null;

        try
        {
            await _supervision.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        ChildProcess[] alive;
        lock (_childrenLock)
        {
            alive = [.. _retiring, .. new[] { _current, _starting }.OfType<ChildProcess>()];
        }

        await Task.WhenAll(alive.Distinct().Select(StopChildAsync)).ConfigureAwait(false);
        _sockets?.Dispose();
        _sockets = null;
        MasterLog.MasterStopped(_logger);
    }

    private async Task SuperviseAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var current = _current;
                if (current is null || current.HasExited)
                {
                    await ReplaceCrashedAsync(current, stopping).ConfigureAwait(false);
                    continue;
                }

                var restart = _restartRequests.Reader.WaitToReadAsync(stopping).AsTask();
                await Task.WhenAny(restart, current.Exited).ConfigureAwait(false);
                stopping.ThrowIfCancellationRequested();

                if (restart.IsCompleted && _restartRequests.Reader.TryRead(out _))
                {
                    await RestartAsync(stopping).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            MasterLog.SupervisorFailed(_logger, e);
            Environment.ExitCode = 1;
            _lifetime.StopApplication();
        }
    }

    private async Task RestartAsync(CancellationToken stopping)
    {
        // At most two generations are alive at once: a restart waits for the last one to finish draining.
        await WaitForRetiringAsync().ConfigureAwait(false);
        long began = Stopwatch.GetTimestamp();
        var old = _current;
        _notifier.Reloading($"Reloading: starting generation {_generation + 1}");
        var sockets = await PrepareSocketsAsync(stopping).ConfigureAwait(false);
        if (sockets is null)
        {
            _metrics.RolledBack();
            _notifier.Ready($"Reload failed: {_lastStartFailure}; rolled back, " + (old is null ? "no generation serves" : Describe(old)));
            return;
        }

        var removed = _sockets!.Listeners.Except(sockets.Listeners).ToList();

        if (_options.Strategy == RestartStrategy.StopFirst && old is not null)
        {
            await StopChildAsync(old).ConfigureAwait(false);
            SetCurrent(null);
            _sockets = sockets;
            ListenSocketSet.Close(removed, _logger);
            var replacement = await StartGenerationAsync(stopping).ConfigureAwait(false);
            SetCurrent(replacement);
            if (replacement is not null)
            {
                MasterLog.RestartCompleted(_logger, replacement.Generation, replacement.Pid, Stopwatch.GetElapsedTime(began).TotalMilliseconds);
                _metrics.RestartCompleted(Stopwatch.GetElapsedTime(began));
                _metrics.GenerationServing(replacement.Generation);
                _notifier.Ready(Describe(replacement));
            }
            else
            {
                _notifier.Ready($"Reload failed: generation {_generation} {_lastStartFailure}; no generation serves, retrying");
            }

            return;
        }

        var next = await StartGenerationAsync(sockets, stopping).ConfigureAwait(false);
        if (next is null)
        {
            ListenSocketSet.Close(sockets.Added, _logger);
            MasterLog.RolledBack(_logger, old?.Generation ?? 0, old?.Pid ?? 0);
            _metrics.RolledBack();
            _notifier.Ready($"Reload failed: generation {_generation} {_lastStartFailure}; rolled back, " +
                (old is null ? "no generation serves" : Describe(old)));
            return;
        }

        _sockets = sockets;
        SetCurrent(next);
        MasterLog.RestartCompleted(_logger, next.Generation, next.Pid, Stopwatch.GetElapsedTime(began).TotalMilliseconds);
        _metrics.RestartCompleted(Stopwatch.GetElapsedTime(began));
        _metrics.GenerationServing(next.Generation);
        _notifier.Ready(Describe(next));
        if (old is not null)
        {
            Retire(old, removed);
        }
        else
        {
            ListenSocketSet.Close(removed, _logger);
        }
    }

    private async Task ReplaceCrashedAsync(ChildProcess? crashed, CancellationToken stopping)
    {
        if (crashed is not null)
        {
            int code = await crashed.Exited.ConfigureAwait(false);
            // Serving time counts from readiness: a slow start must not pass for a long, healthy run.
            var served = Stopwatch.GetElapsedTime(crashed.ReadyAt != 0 ? crashed.ReadyAt : crashed.StartedAt);
            if (served >= _options.CrashRestartMaxDelay)
            {
                _consecutiveCrashes = 0;
            }

            MasterLog.ChildCrashed(_logger, crashed.Generation, crashed.Pid, ChildProcess.DescribeExit(code));
            _metrics.ChildCrashed();
            _notifier.Status($"Generation {crashed.Generation} (pid {crashed.Pid}) crashed ({ChildProcess.DescribeExit(code)}); replacing it");
            crashed.Dispose();
            SetCurrent(null);
        }

        _consecutiveCrashes++;
        var delay = CrashBackoff.Delay(_consecutiveCrashes, _options.CrashRestartDelay, _options.CrashRestartMaxDelay);
        if (delay > TimeSpan.Zero)
        {
            MasterLog.CrashBackoff(_logger, delay.TotalMilliseconds, _consecutiveCrashes);
            await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
        }

        // A restart requested while nothing serves is satisfied by this replacement.
        _restartRequests.Reader.TryRead(out _);
        var replacement = await StartGenerationAsync(stopping).ConfigureAwait(false);
        SetCurrent(replacement);
        if (replacement is not null)
        {
            _metrics.GenerationServing(replacement.Generation);
            _notifier.Status(Describe(replacement));
        }
    }

    /// <summary>
    /// Re-reads the configuration, asks the app's Kestrel again what it binds, and returns the sockets for
    /// the next generation: the current ones, plus any endpoint added, minus any removed. Null when
    /// binding fails; the restart is then rolled back.
    /// </summary>
    private async Task<ListenSocketSet?> PrepareSocketsAsync(CancellationToken stopping)
    {
        var current = _sockets!;
        if (current.FromSystemd)
        {
            MasterLog.EndpointsKeptUnderSocketActivation(_logger);
            return current;
        }

        try
        {
            (_configuration as IConfigurationRoot)?.Reload();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or IOException or InvalidOperationException)
        {
            MasterLog.ConfigurationReloadFailed(_logger, e.Message);
            return current;
        }

        try
        {
            var next = await current.RebindAsync(_endpoints, _logger, stopping).ConfigureAwait(false);
            if (next.Added.Count == 0 && next.Listeners.Count == current.Listeners.Count)
            {
                return current;
            }

            return next;
        }
        catch (InvalidOperationException e)
        {
            _lastStartFailure = e.Message;
            MasterLog.RebindFailed(_logger, e.Message);
            return null;
        }
    }

    private static string Describe(ChildProcess child) => $"Generation {child.Generation} (pid {child.Pid}) serving";

    /// <summary>Starts the next generation and waits until it is ready; kills it and returns null if it is not.</summary>
    private Task<ChildProcess?> StartGenerationAsync(CancellationToken cancellationToken) =>
        StartGenerationAsync(_sockets!, cancellationToken);

    private async Task<ChildProcess?> StartGenerationAsync(ListenSocketSet sockets, CancellationToken cancellationToken)
    {
        int generation = Interlocked.Increment(ref _generation);
        ChildProcess child;
        try
        {
            child = ChildProcess.Start(_command, sockets, generation, _logger);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            MasterLog.ChildStartFailed(_logger, generation, e.Message);
            _lastStartFailure = e.Message;
            return null;
        }

        lock (_childrenLock)
        {
            _starting = child;
        }

        MasterLog.ChildStarted(_logger, generation, child.Pid);
        string? failure = null;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(_options.StartTimeout);
            var timedOut = Task.Delay(Timeout.Infinite, timeout.Token);
            var winner = await Task.WhenAny(child.Ready, child.Exited, timedOut).ConfigureAwait(false);
            if (winner == child.Ready)
            {

                MasterLog.ChildReady(_logger, generation, child.Pid, Stopwatch.GetElapsedTime(child.StartedAt).TotalMilliseconds);
            }
            else if (winner == child.Exited)
            {
                failure = $"it exited before it was ready ({ChildProcess.DescribeExit(child.Exited.Result)})";
            }
            else if (cancellationToken.IsCancellationRequested)
            {
                failure = "the master is stopping";
            }
            else
            {
                failure = $"it was not ready within GracefulRestart:StartTimeout ({_options.StartTimeout})";
            }
        }

        if (failure is not null)
        {
            _lastStartFailure = failure;
            MasterLog.ChildFailedToStart(_logger, generation, child.Pid, failure);
            child.Kill();
            await child.Exited.ConfigureAwait(false);
            lock (_childrenLock)
            {
                _starting = null;
            }

            child.Dispose();
            return null;
        }

        lock (_childrenLock)
        {
            _starting = null;
        }

        return child;
    }

    private void SetCurrent(ChildProcess? child)
    {
        lock (_childrenLock)
        {
            _current = child;
        }
    }

    private void Retire(ChildProcess old, IReadOnlyList<BoundListener> removed)
    {
        lock (_childrenLock)
        {
            _retiring.Add(old);
        }

        _ = RetireAsync(old, removed);
    }

    /// <summary>Stops the old generation, then closes the listeners only it used.</summary>
    private async Task RetireAsync(ChildProcess old, IReadOnlyList<BoundListener> removed)
    {
        await StopChildAsync(old).ConfigureAwait(false);
        ListenSocketSet.Close(removed, _logger);
        lock (_childrenLock)
        {
            _retiring.Remove(old);
        }

        old.Dispose();
    }

    private async Task WaitForRetiringAsync()
    {
        Task[] exits;
        lock (_childrenLock)
        {
            exits = _retiring.Select(c => (Task)c.Exited).ToArray();
        }

        await Task.WhenAll(exits).ConfigureAwait(false);
    }

    /// <summary>SIGTERM, then SIGKILL once <see cref="GracefulRestartOptions.ExitTimeout"/> has passed.</summary>
    private async Task StopChildAsync(ChildProcess child)
    {
        if (!child.HasExited)
        {
            MasterLog.ChildStopping(_logger, child.Generation, child.Pid);
            child.Terminate();
            var finished = await Task.WhenAny(child.Exited, Task.Delay(_options.ExitTimeout, _time)).ConfigureAwait(false);
            if (finished != child.Exited)
            {
                MasterLog.ChildKilled(_logger, child.Generation, child.Pid, _options.ExitTimeout);
                child.Kill();
            }
        }

        int code = await child.Exited.ConfigureAwait(false);
        MasterLog.ChildExited(_logger, child.Generation, child.Pid, ChildProcess.DescribeExit(code));
    }

    public void Dispose()
    {
        _restartSignal?.Dispose();
        _sockets?.Dispose();
        _notifier.Dispose();
    }
}

/// <summary>Exponential backoff for children that keep crashing.</summary>
internal static class CrashBackoff
{
    /// <summary>
    /// The wait before replacement number <paramref name="attempt"/> (1-based) of consecutive crashes:
    /// none for the first, then <paramref name="initial"/>, doubling up to <paramref name="max"/>.
    /// </summary>
    public static TimeSpan Delay(int attempt, TimeSpan initial, TimeSpan max)
    {
        if (attempt <= 1 || initial <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        // Pow overflows to infinity for large attempts, which Min turns into max.
        double ticks = Math.Min(initial.Ticks * Math.Pow(2, attempt - 2), max.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }
}

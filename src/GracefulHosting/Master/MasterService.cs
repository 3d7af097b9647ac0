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
        _logger = logger;
        _time = time;
        _command = command;
    }

    /// <summary>The generation that serves now, for tests and status.</summary>
    internal ChildProcess? Current => _current;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StartFirstGenerationAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The host reports the exception; the exit code must say it too, whatever Main returns.
            Hosting.FailureExitCode.Arm();
            throw;
        }
    }

    private async Task StartFirstGenerationAsync(CancellationToken cancellationToken)
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
        if (Interop.Libc.ResetIfIgnored(signal))
        {
            MasterLog.RestartSignalWasIgnored(_logger, _options.RestartSignal);
        }

        _restartSignal = PosixSignalRegistration.Create((PosixSignal)signal, context =>
        {
            context.Cancel = true;
            RequestRestart();
        });

        var first = await StartGenerationAsync(_sockets, cancellationToken).ConfigureAwait(false);
        if (first is null && cancellationToken.IsCancellationRequested)
        {
            return;
        }

        if (first is null)
        {
            throw new InvalidOperationException(
                $"The first generation of the app did not become ready; the master stops. The reason: {_lastStartFailure}. See the log above for the child's own output.");
        }

        SetCurrent(first);
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
        try
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
        catch (Exception e)
        {
            // Runs on a signal-handling thread: nothing may escape from it.
            MasterLog.StepFailed(_logger, "the restart request", e);
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
        catch (Exception e) when (e is not OperationCanceledException)
        {
            MasterLog.StepFailed(_logger, "supervision", e);
        }

        ChildProcess[] alive;
        lock (_childrenLock)
        {
            alive = [.. new[] { _current, _starting }.OfType<ChildProcess>().Concat(_retiring).Distinct()];
        }

        var stops = alive.Select(StopChildAsync).ToArray();
        var sockets = _sockets;
        if (sockets is not null && !sockets.FromSystemd)
        {
            // Once no child accepts any more, connections that still arrive would only wait in the
            // backlog until the last child exits, and then be reset: refuse them at once instead.
            // systemd's sockets stay open; systemd queues for the next start of the service.
            await Task.WhenAny(Task.WhenAll(alive.Select(c => c.StoppedAccepting)), Task.WhenAll(stops)).ConfigureAwait(false);
            sockets.Dispose();
            _sockets = null;
            MasterLog.ListenersClosedForStop(_logger, sockets.Listeners.Count);
        }

        await Task.WhenAll(stops).ConfigureAwait(false);
        foreach (var child in alive)
        {
            child.Dispose();
        }

        _sockets?.Dispose();
        _sockets = null;
        MasterLog.MasterStopped(_logger);
    }

    /// <summary>
    /// Serves until the master stops: replaces crashed children and restarts on request. Each step
    /// fails alone: an unexpected error is logged, counted as a rollback, and supervision goes on with
    /// whichever generation serves.
    /// </summary>
    private async Task SuperviseAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await SuperviseOnceAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                MasterLog.StepFailed(_logger, "supervision", e);
                _metrics.RolledBack();
                try
                {
                    // Never a busy loop, whatever keeps failing.
                    await Task.Delay(_options.CrashRestartDelay > TimeSpan.Zero ? _options.CrashRestartDelay : TimeSpan.FromSeconds(1), _time, stopping)
                        .ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task SuperviseOnceAsync(CancellationToken stopping)
    {
        var current = _current;
        if (current is null || current.HasExited)
        {
            await ReplaceCrashedAsync(current, stopping).ConfigureAwait(false);
            return;
        }

        var restart = _restartRequests.Reader.WaitToReadAsync(stopping).AsTask();
        await Task.WhenAny(restart, current.Exited).ConfigureAwait(false);
        stopping.ThrowIfCancellationRequested();

        if (restart.IsCompleted && _restartRequests.Reader.TryRead(out _))
        {
            await RestartAsync(stopping).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One restart. Whatever fails in it (a bind, the new generation, an unexpected exception) is rolled
    /// back: the new child is killed, sockets bound for it are closed, and the serving generation keeps
    /// serving. A stop of the master during the restart is no failure: it is neither logged nor counted
    /// as a rollback, and nothing is sent to systemd after its STOPPING=1.
    /// </summary>
    private async Task RestartAsync(CancellationToken stopping)
    {
        // At most two generations are alive at once: a restart waits for the last one to finish draining.
        await WaitForRetiringAsync(stopping).ConfigureAwait(false);
        stopping.ThrowIfCancellationRequested();

        long began = _time.GetTimestamp();
        var old = _current;
        SocketChange? change = null;
        bool committed = false;
        _notifier.Reloading($"Reloading: starting generation {_generation + 1}");
        try
        {
            change = await PrepareSocketsAsync(stopping).ConfigureAwait(false);
            if (change is null)
            {
                // PrepareSockets logged why, naming the setting.
                RollBack(old, log: false);
                return;
            }

            if (_options.Strategy == RestartStrategy.StopFirst && old is not null)
            {
                committed = true;
                await RestartStopFirstAsync(old, change, began, stopping).ConfigureAwait(false);
                return;
            }

            var next = await StartGenerationAsync(change.Next, stopping).ConfigureAwait(false);
            if (next is null)
            {
                stopping.ThrowIfCancellationRequested();
                RollBack(old);
                return;
            }

            _sockets = change.Next;
            committed = true;
            SetCurrent(next);
            if (old is not null)
            {
                Retire(old, change.Removed);
            }
            else
            {
                ListenSocketSet.Close(change.Removed, _logger);
            }

            Completed(next, began);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            _lastStartFailure = $"an unexpected error ({e.GetType().Name}: {e.Message})";
            MasterLog.StepFailed(_logger, "the restart", e);
            if (!committed)
            {
                RollBack(old);
            }
        }
        finally
        {
            if (!committed && change is not null)
            {
                // Only sockets bound for this attempt: a serving generation uses none of them.
                ListenSocketSet.Close(change.Added.Except(_sockets?.Listeners ?? []), _logger);
            }
        }
    }

    /// <summary>StopFirst: the old generation exits before the new one starts, so for a while nothing serves.</summary>
    private async Task RestartStopFirstAsync(ChildProcess old, SocketChange change, long began, CancellationToken stopping)
    {
        await StopChildAsync(old).ConfigureAwait(false);
        SetCurrent(null);
        old.Dispose();
        _sockets = change.Next;
        ListenSocketSet.Close(change.Removed, _logger);
        stopping.ThrowIfCancellationRequested();

        var replacement = await StartGenerationAsync(change.Next, stopping).ConfigureAwait(false);
        if (replacement is null)
        {
            stopping.ThrowIfCancellationRequested();
            // Supervision replaces the missing generation with backoff until a start succeeds.
            _notifier.Ready($"Reload failed: generation {_generation} {_lastStartFailure}; no generation serves, retrying");
            return;
        }

        SetCurrent(replacement);
        Completed(replacement, began);
    }

    private void Completed(ChildProcess next, long began)
    {
        var elapsed = _time.GetElapsedTime(began);
        MasterLog.RestartCompleted(_logger, next.Generation, next.Pid, elapsed.TotalMilliseconds);
        _metrics.RestartCompleted(elapsed);
        _metrics.GenerationServing(next.Generation);
        _notifier.Ready(Describe(next));
    }

    private void RollBack(ChildProcess? old, bool log = true)
    {
        if (log)
        {
            MasterLog.RolledBack(_logger, old?.Generation ?? 0, old?.Pid ?? 0, _lastStartFailure ?? "unknown");
        }

        _metrics.RolledBack();
        _notifier.Ready($"Reload failed: generation {_generation} {_lastStartFailure}; rolled back, " +
            (old is null ? "no generation serves" : Describe(old)));
    }

    private async Task ReplaceCrashedAsync(ChildProcess? crashed, CancellationToken stopping)
    {
        if (crashed is not null)
        {
            int code = await crashed.Exited.ConfigureAwait(false);
            // Serving time counts from readiness: a slow start must not pass for a long, healthy run.
            var served = _time.GetElapsedTime(crashed.ReadyAt != 0 ? crashed.ReadyAt : crashed.StartedAt);
            if (served >= _options.CrashRestartMaxDelay)
            {
                _consecutiveCrashes = 0;
            }

            MasterLog.ChildCrashed(_logger, crashed.Generation, crashed.Pid, ChildProcess.DescribeExit(code));
            _metrics.ChildCrashed();
            _notifier.Status($"Generation {crashed.Generation} (pid {crashed.Pid}) crashed ({ChildProcess.DescribeExit(code)}); replacing it");
            SetCurrent(null);
            crashed.Dispose();
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
        var replacement = await StartGenerationAsync(_sockets!, stopping).ConfigureAwait(false);
        stopping.ThrowIfCancellationRequested();
        SetCurrent(replacement);
        if (replacement is not null)
        {
            _metrics.GenerationServing(replacement.Generation);
            _notifier.Status(Describe(replacement));
        }
    }

    /// <summary>
    /// Re-reads the configuration, asks the app's Kestrel again what it binds, and returns the step to
    /// the next generation's sockets: the current ones, plus any endpoint added, minus any removed. Null
    /// when binding fails; the restart is then rolled back. A configuration that cannot be read keeps the
    /// current sockets: the new generation reads the same configuration and fails on its own, with its
    /// own message.
    /// </summary>
    private async Task<SocketChange?> PrepareSocketsAsync(CancellationToken stopping)
    {
        var current = _sockets!;
        if (current.FromSystemd)
        {
            MasterLog.EndpointsKeptUnderSocketActivation(_logger);
            return SocketChange.Keep(current);
        }

        try
        {
            (_configuration as IConfigurationRoot)?.Reload();
        }
        catch (Exception e)
        {
            MasterLog.ConfigurationReloadFailed(_logger, e.Message);
            return SocketChange.Keep(current);
        }

        try
        {
            return await current.RebindAsync(_endpoints, _logger, stopping).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            _lastStartFailure = e.Message;
            MasterLog.RebindFailed(_logger, e.Message);
            return null;
        }
    }

    private static string Describe(ChildProcess child) => $"Generation {child.Generation} (pid {child.Pid}) serving";

    /// <summary>
    /// Starts the next generation and waits until it is ready. Returns null, with the child killed and
    /// reaped, if it is not ready in time, exits first, or the master stops meanwhile; on an unexpected
    /// exception the child is killed as well before the exception goes on.
    /// </summary>
    private async Task<ChildProcess?> StartGenerationAsync(ListenSocketSet sockets, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        int generation = Interlocked.Increment(ref _generation);
        ChildProcess child;
        try
        {
            child = ChildProcess.Start(_command, sockets, generation, _time, _logger);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            MasterLog.ChildStartFailed(_logger, generation, e.Message);
            _lastStartFailure = e.Message;
            return null;
        }

        lock (_childrenLock)
        {
            _starting = child;
        }

        bool ready = false;
        try
        {
            MasterLog.ChildStarted(_logger, generation, child.Pid);
            string? failure = await WaitUntilReadyAsync(child.Ready, child.Exited, _options.StartTimeout, _time, cancellationToken)
                .ConfigureAwait(false);
            if (failure is null)
            {
                ready = true;
                MasterLog.ChildReady(_logger, generation, child.Pid, _time.GetElapsedTime(child.StartedAt).TotalMilliseconds);
                return child;
            }

            _lastStartFailure = failure;
            MasterLog.ChildFailedToStart(_logger, generation, child.Pid, failure);
            return null;
        }
        finally
        {
            if (!ready)
            {
                child.Kill();
                await child.Exited.ConfigureAwait(false);
                child.Dispose();
            }

            lock (_childrenLock)
            {
                _starting = null;
            }
        }
    }

    /// <summary>
    /// Null once <paramref name="ready"/> completes; otherwise why it did not: the child exited, the
    /// start timeout passed on <paramref name="time"/>, or the master is stopping.
    /// </summary>
    internal static async Task<string?> WaitUntilReadyAsync(Task ready, Task<int> exited, TimeSpan startTimeout, TimeProvider time,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timedOut = Task.Delay(startTimeout, time, timeout.Token);
        var winner = await Task.WhenAny(ready, exited, timedOut).ConfigureAwait(false);
        timeout.Cancel();
        if (winner == ready)
        {
            return null;
        }

        if (winner == exited)
        {
            return $"it exited before it was ready ({ChildProcess.DescribeExit(exited.Result)})";
        }

        return cancellationToken.IsCancellationRequested
            ? "the master is stopping"
            : $"it was not ready within GracefulRestart:StartTimeout ({startTimeout})";
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
        try
        {
            await StopChildAsync(old).ConfigureAwait(false);
            ListenSocketSet.Close(removed, _logger);
        }
        catch (Exception e)
        {
            MasterLog.StepFailed(_logger, $"retiring generation {old.Generation}", e);
        }
        finally
        {
            lock (_childrenLock)
            {
                _retiring.Remove(old);
            }

            old.Dispose();
        }
    }

    private async Task WaitForRetiringAsync(CancellationToken stopping)
    {
        Task[] exits;
        lock (_childrenLock)
        {
            exits = _retiring.Select(c => (Task)c.Exited).ToArray();
        }

        await Task.WhenAll(exits).WaitAsync(stopping).ConfigureAwait(false);
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
        _stopping.Dispose();
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

using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading.Channels;
using GracefulHosting.Master.Sockets;
using GracefulHosting.Protocol;
using GracefulHosting.Systemd;
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
internal sealed class MasterService : IHostedService, Control.IControlCommands, IDisposable
{
    private readonly GracefulRestartOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ChildCommand _command;
    private readonly ServiceNotifier _notifier;
    private readonly Diagnostics.MasterMetrics _metrics;
    private readonly CancellationTokenSource _stopping = new();
    // FullMode Wait, not DropWrite: TryWrite then returns false for a request that finds one pending,
    // so RequestRestart can log it as coalesced (DropWrite drops it and still returns true).
    private readonly Channel<bool> _restartRequests = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.Wait });
    private readonly List<ChildProcess> _retiring = [];
    private readonly Lock _childrenLock = new();
    private readonly Lock _requestLock = new();
    private readonly string _applicationName;

    private SocketTable? _table;
    private PosixSignalRegistration? _restartSignal;
    private ChildProcess? _current;
    private ChildProcess? _starting;
    private Task _supervision = Task.CompletedTask;
    private int _generation;
    private int _consecutiveCrashes;
    private string? _lastStartFailure;
    // Those who asked for the next restart (the control socket's reload) wait here for its outcome.
    private TaskCompletionSource<RestartOutcome> _nextRestart = NewRestartWaiters();
    private (RestartOutcome Outcome, DateTimeOffset At)? _lastRestart;
    private Control.ControlSocket? _controlSocket;

    public MasterService(
        IOptions<GracefulRestartOptions> options,
        ILogger<MasterService> logger,
        TimeProvider time,
        ChildCommand command,
        ServiceNotifier notifier,
        Diagnostics.MasterMetrics metrics,
        IHostEnvironment environment)
    {
        _applicationName = environment.ApplicationName;
        _notifier = notifier;
        _metrics = metrics;
        _options = options.Value;
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

        // Each generation's Kestrel asks for what it binds; under socket activation the table holds
        // systemd's sockets and binds nothing.
        _table = activation is null
            ? SocketTable.ForBinding(InheritedHandles.FindListening(), _logger)
            : SocketTable.ForActivation(activation, _logger);
        MasterLog.MasterStarting(_logger, Environment.ProcessId, _table.Count, _options.Strategy);

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

        var first = await StartGenerationAsync(cancellationToken).ConfigureAwait(false);
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
        _table.Serving(first.Generation, first.Urls);
        _metrics.GenerationServing(first.Generation);
        _notifier.Ready(Describe(first));
        if (ServiceNotifier.WatchdogInterval(Environment.ProcessId,
                Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID")) is { } watchdog)
        {
            _notifier.StartWatchdog(watchdog);
        }

        OpenControlSocket();
        _supervision = Task.Run(() => SuperviseAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>
    /// Listens on the control socket. One the option names must be had: the start fails without it.
    /// A default one is skipped, with a warning, when another process (say, a second copy of the app
    /// started from the same folder) listens there already.
    /// </summary>
    private void OpenControlSocket()
    {
        var (path, configured) = Control.ControlSocketPath.Resolve(_options.ControlSocket,
            Environment.GetEnvironmentVariable("RUNTIME_DIRECTORY"), _applicationName, _command.WorkingDirectory, Interop.Libc.GetEffectiveUserId());
        try
        {
            _controlSocket = Control.ControlSocket.Open(path, this, _logger);
            Control.ControlLog.Listening(_logger, path);
        }
        catch (Exception e) when (!configured && e is Microsoft.AspNetCore.Connections.AddressInUseException or InvalidOperationException
            or IOException or UnauthorizedAccessException)
        {
            Control.ControlLog.Skipped(_logger, e.Message);
        }
    }

    public async Task<RestartOutcome> ReloadAsync(CancellationToken cancellationToken)
    {
        Task<RestartOutcome> outcome;
        lock (_requestLock)
        {
            outcome = _nextRestart.Task;
            RequestRestart("the control socket");
        }

        return await outcome.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public IReadOnlyList<string> Status()
    {
        var lines = new List<string>
        {
            $"master pid={Environment.ProcessId} strategy={_options.Strategy} stopping={_stopping.IsCancellationRequested.ToString().ToLowerInvariant()}",
        };
        lock (_childrenLock)
        {
            if (_current is { } current)
            {
                lines.Add(DescribeForStatus(current, current.HasExited ? "exited" : "serving"));
            }

            if (_starting is { } starting)
            {
                lines.Add(DescribeForStatus(starting, "starting"));
            }

            lines.AddRange(_retiring.Select(r => DescribeForStatus(r, r.HasExited ? "exited" : "draining")));
        }

        if (_lastRestart is { } last)
        {
            lines.Add($"last-restart at={last.At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} result={(last.Outcome.Succeeded ? "completed" : "failed")} {last.Outcome.Message}");
        }

        return lines;
    }

    private static string DescribeForStatus(ChildProcess child, string state) =>
        $"generation {child.Generation} pid={child.Pid} started={child.StartedUtc.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} state={state}";

    private static TaskCompletionSource<RestartOutcome> NewRestartWaiters() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Takes a pending restart request, if there is one, with those waiting for its outcome; new
    /// requests from here on wait for the restart after it.
    /// </summary>
    private TaskCompletionSource<RestartOutcome>? TakeRestartRequest()
    {
        lock (_requestLock)
        {
            if (!_restartRequests.Reader.TryRead(out _))
            {
                return null;
            }

            var waiters = _nextRestart;
            _nextRestart = NewRestartWaiters();
            return waiters;
        }
    }

    private void Finish(TaskCompletionSource<RestartOutcome> waiters, RestartOutcome outcome)
    {
        _lastRestart = (outcome, _time.GetUtcNow());
        waiters.TrySetResult(outcome);
    }

    /// <summary>Asks for a restart. Requests that arrive during a restart are coalesced into one.</summary>
    /// <param name="source">Who asked, for the log: the restart signal by default.</param>
    public void RequestRestart(string? source = null)
    {
        try
        {
            if (_stopping.IsCancellationRequested)
            {
                MasterLog.RestartIgnoredWhileStopping(_logger, source ?? _options.RestartSignal);
                return;
            }

            bool written;
            lock (_requestLock)
            {
                written = _restartRequests.Writer.TryWrite(true);
            }

            if (written)
            {
                MasterLog.RestartRequested(_logger, source ?? _options.RestartSignal);
                // At once, whatever the restart waits for first (a generation's drain, a crash backoff):
                // systemd's reload (Type=notify-reload) counts from here, and READY=1 ends it.
                _notifier.Reloading($"Reloading: restart requested ({source ?? _options.RestartSignal})");
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
        _controlSocket?.Dispose();
        _controlSocket = null;
        // The restart signal stays registered while the master stops (RequestRestart ignores it then):
        // disposing the registration would give it back its default action, which ends the process.

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
        if (_table is { FromSystemd: false } table)
        {
            // Once no child accepts any more, connections that still arrive would only wait in the
            // backlog until the last child exits, and then be reset: refuse them at once instead.
            // systemd's sockets stay open; systemd queues for the next start of the service.
            await Task.WhenAny(Task.WhenAll(alive.Select(c => c.StoppedAccepting)), Task.WhenAll(stops)).ConfigureAwait(false);
            MasterLog.ListenersClosedForStop(_logger, table.CloseBound());
        }

        await Task.WhenAll(stops).ConfigureAwait(false);
        foreach (var child in alive)
        {
            child.Dispose();
        }

        _table?.Dispose();
        lock (_requestLock)
        {
            _nextRestart.TrySetResult(RestartOutcome.Stopping);
        }

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

        if (restart.IsCompleted && TakeRestartRequest() is { } waiters)
        {
            var outcome = RestartOutcome.Stopping;
            try
            {
                outcome = await RestartAsync(stopping).ConfigureAwait(false);
            }
            finally
            {
                Finish(waiters, outcome);
            }
        }
    }

    /// <summary>
    /// One restart. Whatever fails in it (a bind, the new generation, an unexpected exception) is rolled
    /// back: the new child is killed, sockets bound for it close once it is gone, and the serving
    /// generation keeps serving. A stop of the master during the restart is no failure: it is neither
    /// logged nor counted as a rollback, and nothing is sent to systemd after its STOPPING=1.
    /// </summary>
    private async Task<RestartOutcome> RestartAsync(CancellationToken stopping)
    {
        // At most two generations are alive at once: a restart waits for the last one to finish draining.
        await WaitForRetiringAsync(stopping).ConfigureAwait(false);
        stopping.ThrowIfCancellationRequested();

        long began = _time.GetTimestamp();
        var old = _current;
        bool committed = false;
        try
        {
            if (_options.Strategy == RestartStrategy.StopFirst && old is not null)
            {
                committed = true;
                return await RestartStopFirstAsync(old, began, stopping).ConfigureAwait(false);
            }

            var next = await StartGenerationAsync(stopping).ConfigureAwait(false);
            if (next is null)
            {
                stopping.ThrowIfCancellationRequested();
                return RollBack(old);
            }

            committed = true;
            SetCurrent(next);
            if (old is not null)
            {
                Retire(old);
            }

            return Completed(next, began);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            _lastStartFailure = $"an unexpected error ({e.GetType().Name}: {e.Message})";
            MasterLog.StepFailed(_logger, "the restart", e);
            if (!committed)
            {
                return RollBack(old);
            }

            string message = $"the restart failed after the switch: {_lastStartFailure}";
            _notifier.Ready("Reload failed: " + message);
            return new RestartOutcome(false, message);
        }
    }

    /// <summary>StopFirst: the old generation exits before the new one starts, so for a while nothing serves.</summary>
    private async Task<RestartOutcome> RestartStopFirstAsync(ChildProcess old, long began, CancellationToken stopping)
    {
        await StopChildAsync(old, restart: true).ConfigureAwait(false);
        SetCurrent(null);
        old.Dispose();
        stopping.ThrowIfCancellationRequested();

        var replacement = await StartGenerationAsync(stopping).ConfigureAwait(false);
        if (replacement is null)
        {
            stopping.ThrowIfCancellationRequested();
            // Supervision replaces the missing generation with backoff until a start succeeds.
            string message = $"generation {_generation} {_lastStartFailure}; no generation serves, retrying";
            _notifier.Ready("Reload failed: " + message);
            return new RestartOutcome(false, message);
        }

        SetCurrent(replacement);
        return Completed(replacement, began);
    }

    private RestartOutcome Completed(ChildProcess next, long began)
    {
        var elapsed = _time.GetElapsedTime(began);
        _table!.Serving(next.Generation, next.Urls);
        MasterLog.RestartCompleted(_logger, next.Generation, next.Pid, elapsed.TotalMilliseconds);
        _metrics.RestartCompleted(elapsed);
        _metrics.GenerationServing(next.Generation);
        _notifier.Ready(Describe(next));
        return new RestartOutcome(true, $"generation {next.Generation} (pid {next.Pid}) serves after {elapsed.TotalMilliseconds:0} ms");
    }

    private RestartOutcome RollBack(ChildProcess? old)
    {
        MasterLog.RolledBack(_logger, old?.Generation ?? 0, old?.Pid ?? 0, _lastStartFailure ?? "unknown");
        _metrics.RolledBack();
        string message = $"generation {_generation} {_lastStartFailure}; rolled back, " +
            (old is null ? "no generation serves" : Describe(old));
        _notifier.Ready("Reload failed: " + message);
        return new RestartOutcome(false, message);
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
        var waiters = TakeRestartRequest();
        var outcome = RestartOutcome.Stopping;
        try
        {
            var replacement = await StartGenerationAsync(stopping).ConfigureAwait(false);
            stopping.ThrowIfCancellationRequested();
            SetCurrent(replacement);
            if (replacement is not null)
            {
                _table!.Serving(replacement.Generation, replacement.Urls);
                _metrics.GenerationServing(replacement.Generation);
                outcome = new RestartOutcome(true, $"generation {replacement.Generation} (pid {replacement.Pid}) serves, replacing one that crashed");
            }
            else
            {
                outcome = new RestartOutcome(false, $"generation {_generation} {_lastStartFailure}; no generation serves, retrying");
            }
        }
        finally
        {
            if (waiters is not null)
            {
                // This replacement was the reload that was asked for during the backoff: it ends it.
                Finish(waiters, outcome);
                if (!stopping.IsCancellationRequested)
                {
                    _notifier.Ready(outcome.Succeeded && _current is { } serving ? Describe(serving) : "Reload failed: " + outcome.Message);
                }
            }
            else if (_current is { } replaced)
            {
                _notifier.Status(Describe(replaced));
            }
        }
    }

    private static string Describe(ChildProcess child) => $"Generation {child.Generation} (pid {child.Pid}) serving";

    /// <summary>
    /// Starts the next generation and waits until it is ready. Returns null, with the child killed and
    /// reaped, if it is not ready in time, exits first, or the master stops meanwhile; on an unexpected
    /// exception the child is killed as well before the exception goes on.
    /// </summary>
    private async Task<ChildProcess?> StartGenerationAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        var table = _table!;
        int generation = Interlocked.Increment(ref _generation);
        ChildProcess child;
        try
        {
            child = ChildProcess.Start(_command, generation, table.FromSystemd ? table.SystemdUrls : [],
                (SocketRequest request, out SocketReply reply) => table.Acquire(generation, request, out reply), _time, _logger);
            // Whatever the generation held is given back once it is gone, however it ends.
            _ = child.Exited.ContinueWith(_ => table.Release(generation), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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

            if (child.LastRefusal is { } refusal)
            {
                failure += $"; the master could not give it a socket: {refusal.TrimEnd('.')}";
            }

            _lastStartFailure = failure;
            if (cancellationToken.IsCancellationRequested)
            {
                // The operator asked for this stop: the start is abandoned, nothing failed.
                MasterLog.ChildStartAbandoned(_logger, generation, child.Pid);
            }
            else
            {
                MasterLog.ChildFailedToStart(_logger, generation, child.Pid, failure);
            }

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

    private void Retire(ChildProcess old)
    {
        lock (_childrenLock)
        {
            _retiring.Add(old);
        }

        _ = RetireAsync(old);
    }

    /// <summary>Stops the old generation; the sockets only it used close once it has exited.</summary>
    private async Task RetireAsync(ChildProcess old)
    {
        try
        {
            await StopChildAsync(old, restart: true).ConfigureAwait(false);
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

    /// <summary>
    /// SIGTERM, then SIGKILL once the child's <see cref="GracefulRestartOptions.ExitTimeout"/> has passed: the one
    /// of its own release, which it reported when ready, else the master's.
    /// </summary>
    private Task StopChildAsync(ChildProcess child) => StopChildAsync(child, restart: false);

    // A generation stopped for a restart hears so before its SIGTERM: its health check stays healthy.
    private async Task StopChildAsync(ChildProcess child, bool restart)
    {
        if (!child.HasExited)
        {
            MasterLog.ChildStopping(_logger, child.Generation, child.Pid);
            if (restart)
            {
                child.AnnounceRestart();
            }

            child.Terminate();
            var exitTimeout = child.ExitTimeout ?? _options.ExitTimeout;
            var finished = await Task.WhenAny(child.Exited, Task.Delay(exitTimeout, _time)).ConfigureAwait(false);
            if (finished != child.Exited)
            {
                MasterLog.ChildKilled(_logger, child.Generation, child.Pid, exitTimeout);
                child.Kill();
            }
        }

        int code = await child.Exited.ConfigureAwait(false);
        MasterLog.ChildExited(_logger, child.Generation, child.Pid, ChildProcess.DescribeExit(code));
    }

    public void Dispose()
    {
        if (_restartSignal is not null)
        {
            _restartSignal.Dispose();
            // Until the process exits, the restart signal is ignored rather than fatal.
            RestartSignals.TryParse(_options.RestartSignal, out int signal);
            Interop.Libc.Ignore(signal);
        }

        _table?.Dispose();
        _notifier.Dispose();
        _stopping.Dispose();
    }
}

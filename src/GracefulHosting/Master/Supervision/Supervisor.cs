using System.Runtime.Versioning;
using System.Threading.Channels;
using GracefulHosting.Master.Sockets;
using GracefulHosting.Systemd;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master.Supervision;

// One loop takes every event in turn and owns every field below; nothing here waits, so no event waits behind another.
[SupportedOSPlatform("linux")]
internal sealed class Supervisor
{
    private readonly GracefulRestartOptions _options;
    private readonly IChildLauncher _launcher;
    private readonly SocketTable _table;
    private readonly ServiceNotifier _notifier;
    private readonly Diagnostics.MasterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<MasterEvent> _events = Channel.CreateUnbounded<MasterEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource<bool> _firstGeneration = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Generations told to stop for a restart, still draining.
    private readonly List<IChild> _retiring = [];
    // Every child the stop waits for, until it has exited.
    private readonly List<IChild> _stopping = [];
    private readonly Dictionary<int, (ITimer Timer, TimeSpan Timeout)> _exitTimers = [];
    // Reloads that asked while the master stops: they hear so once it has stopped.
    private readonly List<TaskCompletionSource<RestartOutcome>> _refused = [];

    private SupervisorState _state = SupervisorState.Starting;
    private IChild? _current;
    private GenerationStart? _start;
    private RestartRequest? _pending;
    private RestartRequest? _restart;
    private RestartPhase _phase;
    private ITimer? _backoffTimer;
    private int _backoffAttempt;
    private int _consecutiveCrashes;
    private int _generation;
    private bool _listenersClosed;
    private volatile StatusView _view = new(SupervisorState.Starting, [], null);

    public Supervisor(GracefulRestartOptions options, IChildLauncher launcher, SocketTable table, ServiceNotifier notifier,
        Diagnostics.MasterMetrics metrics, TimeProvider time, ILogger logger)
    {
        _options = options;
        _launcher = launcher;
        _table = table;
        _notifier = notifier;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    private enum RestartPhase
    {
        // At most two generations are alive at once: the last one drains first.
        WaitingForDrain,

        // StopFirst: the serving generation exits before the next starts.
        StoppingOld,

        StartingNext,
    }

    public SupervisorState State => _view.State;

    // False when the master stopped before the first generation served; faults, naming the reason, when it failed to start.
    public Task<bool> FirstGeneration => _firstGeneration.Task;

    public Task Stopped => _stopped.Task;

    // From any thread.
    public void Post(MasterEvent e) => _events.Writer.TryWrite(e);

    public async Task RunAsync()
    {
        Begin();
        while (await _events.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            ProcessPending();
        }
    }

    // Events posted after this are dropped.
    public void Complete() => _events.Writer.TryComplete();

    internal void Begin() => Step(StartGeneration);

    // The loop's body, and the unit tests' step.
    internal void ProcessPending()
    {
        while (_events.Reader.TryRead(out var e))
        {
            Step(() => Handle(e));
        }
    }

    public IReadOnlyList<string> Status()
    {
        var view = _view;
        bool stopping = view.State is SupervisorState.Stopping or SupervisorState.Stopped;
        var lines = new List<string>
        {
            $"master pid={Environment.ProcessId} strategy={_options.Strategy} stopping={stopping.ToString().ToLowerInvariant()}",
        };
        foreach (var (child, role) in view.Children)
        {
            string state = role switch
            {
                ChildRole.Serving => child.HasExited ? "exited" : "serving",
                ChildRole.Starting => "starting",
                _ => child.HasExited ? "exited" : "draining",
            };
            lines.Add($"generation {child.Generation} pid={child.Pid} started={child.StartedUtc.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} state={state}");
        }

        if (view.LastRestart is { } last)
        {
            lines.Add($"last-restart at={last.At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} result={(last.Outcome.Succeeded ? "completed" : "failed")} {last.Outcome.Message}");
        }

        return lines;
    }

    // Whatever a transition throws fails it alone: logged, counted as a rollback, and its restart ends as failed, so no waiter hangs.
    private void Step(Action transition)
    {
        try
        {
            transition();
        }
        catch (Exception e)
        {
            MasterLog.StepFailed(_logger, "supervision", e);
            _metrics.RolledBack();
            try
            {
                if (_restart is not null && _start is null && _state is SupervisorState.Restarting or SupervisorState.Backoff)
                {
                    var outcome = new RestartOutcome(false, $"the restart failed: an unexpected error ({e.GetType().Name}: {e.Message})");
                    _notifier.Ready("Reload failed: " + outcome.Message);
                    EndRestart(outcome);
                }
            }
            catch (Exception again)
            {
                MasterLog.StepFailed(_logger, "supervision", again);
            }
        }

        Publish();
    }

    private void Handle(MasterEvent e)
    {
        switch (e)
        {
            case RestartRequested request:
                OnRestartRequested(request);
                break;
            case StopRequested:
                OnStopRequested();
                break;
            case ChildReady ready:
                OnChildReady(ready.Generation);
                break;
            case ChildExited exited:
                OnChildExited(exited.Generation, exited.ExitCode);
                break;
            case ChildStoppedAccepting:
                CheckStopped();
                break;
            case StartTimedOut timedOut when _start is { Undecided: true } start && start.Generation == timedOut.Generation:
                FailStart(start, $"it was not ready within GracefulRestart:StartTimeout ({_options.StartTimeout})");
                break;
            case ExitTimedOut timedOut:
                OnExitTimedOut(timedOut.Generation);
                break;
            case BackoffElapsed elapsed when _state == SupervisorState.Backoff && elapsed.Attempt == _backoffAttempt && _start is null:
                _backoffTimer?.Dispose();
                // A restart asked for while nothing serves is satisfied by this replacement.
                _restart = _pending;
                _pending = null;
                StartGeneration();
                break;
            default:
                // Late or stale: a timer of a child that has moved on, a backoff that a stop ended.
                break;
        }
    }

    private void OnRestartRequested(RestartRequested request)
    {
        if (_state is SupervisorState.Stopping or SupervisorState.Stopped)
        {
            MasterLog.RestartIgnoredWhileStopping(_logger, request.Source);
            if (request.Waiter is { } refused)
            {
                if (_state == SupervisorState.Stopped)
                {
                    refused.TrySetResult(RestartOutcome.Stopping);
                }
                else
                {
                    _refused.Add(refused);
                }
            }

            return;
        }

        if (_pending is null)
        {
            _pending = new RestartRequest();
            MasterLog.RestartRequested(_logger, request.Source);
            // At once, whatever the restart waits for first (a generation's drain, a crash backoff):
            // systemd's reload (Type=notify-reload) counts from here, and READY=1 ends it.
            _notifier.Reloading($"Reloading: restart requested ({request.Source})");
        }
        else
        {
            MasterLog.RestartCoalesced(_logger);
        }

        if (request.Waiter is { } waiter)
        {
            _pending.Waiters.Add(waiter);
        }

        if (_state == SupervisorState.Serving)
        {
            BeginRestart();
        }
    }

    private void BeginRestart()
    {
        _restart = _pending;
        _pending = null;
        _state = SupervisorState.Restarting;
        _phase = RestartPhase.WaitingForDrain;
        ContinueRestart();
    }

    // Once nothing drains any more; StopFirst stops the old generation before the next starts.
    private void ContinueRestart()
    {
        if (_state != SupervisorState.Restarting || _retiring.Count > 0 || _phase == RestartPhase.StartingNext)
        {
            return;
        }

        if (_phase == RestartPhase.WaitingForDrain)
        {
            _restart!.Began = _time.GetTimestamp();
            if (_options.Strategy == RestartStrategy.StopFirst && _current is { } old)
            {
                // For a while nothing serves.
                _phase = RestartPhase.StoppingOld;
                _current = null;
                Retire(old);
                if (_retiring.Count > 0)
                {
                    return;
                }
            }
        }

        _phase = RestartPhase.StartingNext;
        StartGeneration();
    }

    // A process that cannot even be started fails its start at once.
    private void StartGeneration()
    {
        int generation = ++_generation;
        IChild child;
        try
        {
            child = _launcher.Launch(generation);
        }
        catch (Exception e)
        {
            string failure;
            if (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
            {
                MasterLog.ChildStartFailed(_logger, generation, e.Message);
                failure = e.Message;
            }
            else
            {
                MasterLog.StepFailed(_logger, _state == SupervisorState.Restarting ? "the restart" : "supervision", e);
                failure = $"an unexpected error ({e.GetType().Name}: {e.Message})";
            }

            StartFailed(generation, failure);
            return;
        }

        MasterLog.ChildStarted(_logger, generation, child.Pid);
        var timeout = _time.CreateTimer(_ => Post(new StartTimedOut(generation)), null, _options.StartTimeout, Timeout.InfiniteTimeSpan);
        _start = new GenerationStart(generation, child, timeout);
        Observe(child);
    }

    private void Observe(IChild child)
    {
        int generation = child.Generation;
        child.Ready.ContinueWith(_ => Post(new ChildReady(generation)), CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        child.StoppedAccepting.ContinueWith(_ => Post(new ChildStoppedAccepting(generation)), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        child.Exited.ContinueWith(t => Post(new ChildExited(generation, t.IsCompletedSuccessfully ? t.Result : -1)), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnChildReady(int generation)
    {
        if (_start is not { Undecided: true, Child: { } child } start || start.Generation != generation)
        {
            return;
        }

        start.Succeed();
        _start = null;
        MasterLog.ChildReady(_logger, generation, child.Pid, _time.GetElapsedTime(child.StartedAt).TotalMilliseconds);
        StartSucceeded(child);
    }

    private void FailStart(GenerationStart start, string failure)
    {
        var child = start.Child!;
        if (child.LastRefusal is { } refusal)
        {
            failure += $"; the master could not give it a socket: {refusal.TrimEnd('.')}";
        }

        start.Fail(failure);
        MasterLog.ChildFailedToStart(_logger, start.Generation, child.Pid, failure);
        child.Kill();
        if (child.HasExited)
        {
            Reaped(start);
        }
    }

    // A failed or abandoned start ends only once its child is reaped: never more than two generations alive.
    private void Reaped(GenerationStart start)
    {
        start.Child?.Dispose();
        _start = null;
        if (!start.Abandoned && _state != SupervisorState.Stopping)
        {
            StartFailed(start.Generation, start.Failure!);
        }

        CheckStopped();
    }

    private void StartSucceeded(IChild child)
    {
        switch (_state)
        {
            case SupervisorState.Starting:
                Serve(child);
                _notifier.Ready(Describe(child));
                _state = SupervisorState.Serving;
                _firstGeneration.TrySetResult(true);
                ServeOrGoOn();
                break;
            case SupervisorState.Restarting:
                var old = _current;
                Serve(child);
                if (old is not null)
                {
                    Retire(old);
                }

                EndRestart(Completed(child, _restart!.Began));
                break;
            case SupervisorState.Backoff:
                Serve(child);
                var outcome = new RestartOutcome(true, $"generation {child.Generation} (pid {child.Pid}) serves, replacing one that crashed");
                if (_restart is not null)
                {
                    // This replacement was the reload asked for during the backoff: it ends it.
                    _notifier.Ready(Describe(child));
                    EndRestart(outcome);
                }
                else
                {
                    _notifier.Status(Describe(child));
                    ServeOrGoOn();
                }

                break;
        }
    }

    private void StartFailed(int generation, string failure)
    {
        switch (_state)
        {
            case SupervisorState.Starting:
                _firstGeneration.TrySetException(new InvalidOperationException(
                    $"The first generation of the app did not become ready; the master stops. The reason: {failure}. See the log above for the child's own output."));
                break;
            case SupervisorState.Restarting when _current is { } old:
                EndRestart(RollBack(old, generation, failure));
                break;
            case SupervisorState.Restarting or SupervisorState.Backoff:
                // Supervision replaces the missing generation with backoff until a start succeeds.
                var outcome = new RestartOutcome(false, $"generation {generation} {failure}; no generation serves, retrying");
                if (_restart is not null)
                {
                    _notifier.Ready("Reload failed: " + outcome.Message);
                    EndRestart(outcome);
                }
                else
                {
                    ServeOrGoOn();
                }

                break;
        }
    }

    private void Serve(IChild child)
    {
        _current = child;
        _table.Serving(child.Generation, child.Urls);
        _metrics.GenerationServing(child.Generation);
    }

    private RestartOutcome Completed(IChild next, long began)
    {
        var elapsed = _time.GetElapsedTime(began);
        MasterLog.RestartCompleted(_logger, next.Generation, next.Pid, elapsed.TotalMilliseconds);
        _metrics.RestartCompleted(elapsed);
        _notifier.Ready(Describe(next));
        return new RestartOutcome(true, $"generation {next.Generation} (pid {next.Pid}) serves after {elapsed.TotalMilliseconds:0} ms");
    }

    private RestartOutcome RollBack(IChild old, int generation, string failure)
    {
        MasterLog.RolledBack(_logger, old.Generation, old.Pid, failure);
        _metrics.RolledBack();
        string message = $"generation {generation} {failure}; rolled back, {Describe(old)}";
        _notifier.Ready("Reload failed: " + message);
        return new RestartOutcome(false, message);
    }

    // Also for a replacement that satisfies a restart.
    private void EndRestart(RestartOutcome outcome)
    {
        Settle(outcome);
        ServeOrGoOn();
    }

    private void Settle(RestartOutcome outcome)
    {
        var restart = _restart!;
        _restart = null;
        _view = _view with { LastRestart = (outcome, _time.GetUtcNow()) };
        foreach (var waiter in restart.Waiters)
        {
            waiter.TrySetResult(outcome);
        }
    }

    // With nothing serving (a crash the restart could not cover, a failed StopFirst start), the replacement waits for the backoff.
    private void ServeOrGoOn()
    {
        if (_current is null)
        {
            EnterBackoff();
        }
        else if (_current.HasExited)
        {
            Crashed(_current, _current.Exited.Result);
        }
        else
        {
            _state = SupervisorState.Serving;
            if (_pending is not null)
            {
                BeginRestart();
            }
        }
    }

    private void OnChildExited(int generation, int code)
    {
        if (_start is { Child: { } starting } start && starting.Generation == generation)
        {
            if (start.Undecided)
            {
                FailStart(start, $"it exited before it was ready ({ChildProcess.DescribeExit(code)})");
            }
            else
            {
                Reaped(start);
            }
        }
        else if (_retiring.Find(c => c.Generation == generation) is { } retired)
        {
            _retiring.Remove(retired);
            Exited(retired, code);
            retired.Dispose();
            ContinueRestart();
            CheckStopped();
        }
        else if (_state == SupervisorState.Stopping && _stopping.Find(c => c.Generation == generation) is { } stopped)
        {
            Exited(stopped, code);
            CheckStopped();
        }
        else if (_state == SupervisorState.Serving && _current?.Generation == generation)
        {
            Crashed(_current, code);
        }

        // Else a serving generation that died while a restart is under way: that restart replaces it.
    }

    private void Exited(IChild child, int code)
    {
        _stopping.Remove(child);
        if (_exitTimers.Remove(child.Generation, out var timer))
        {
            timer.Timer.Dispose();
        }

        MasterLog.ChildExited(_logger, child.Generation, child.Pid, ChildProcess.DescribeExit(code));
    }

    private void Crashed(IChild crashed, int code)
    {
        // Serving time counts from readiness: a slow start must not pass for a long, healthy run.
        var served = _time.GetElapsedTime(crashed.ReadyAt != 0 ? crashed.ReadyAt : crashed.StartedAt);
        if (served >= _options.CrashRestartMaxDelay)
        {
            _consecutiveCrashes = 0;
        }

        MasterLog.ChildCrashed(_logger, crashed.Generation, crashed.Pid, ChildProcess.DescribeExit(code));
        _metrics.ChildCrashed();
        _notifier.Status($"Generation {crashed.Generation} (pid {crashed.Pid}) crashed ({ChildProcess.DescribeExit(code)}); replacing it");
        _current = null;
        crashed.Dispose();
        EnterBackoff();
    }

    private void EnterBackoff()
    {
        _state = SupervisorState.Backoff;
        _consecutiveCrashes++;
        int attempt = ++_backoffAttempt;
        var delay = CrashBackoff.Delay(_consecutiveCrashes, _options.CrashRestartDelay, _options.CrashRestartMaxDelay);
        if (delay > TimeSpan.Zero)
        {
            MasterLog.CrashBackoff(_logger, delay.TotalMilliseconds, _consecutiveCrashes);
            _backoffTimer = _time.CreateTimer(_ => Post(new BackoffElapsed(attempt)), null, delay, Timeout.InfiniteTimeSpan);
        }
        else
        {
            // Through the loop all the same: a start that keeps failing at once never recurses.
            Post(new BackoffElapsed(attempt));
        }
    }

    // The sockets only the old generation used close once it has exited.
    private void Retire(IChild old)
    {
        if (old.HasExited)
        {
            MasterLog.ChildExited(_logger, old.Generation, old.Pid, ChildProcess.DescribeExit(old.Exited.Result));
            old.Dispose();
            return;
        }

        _retiring.Add(old);
        Terminate(old, restart: true);
    }

    // SIGKILL after the ExitTimeout of the child's own release (else the master's); a restart is announced first, for the child's health check.
    private void Terminate(IChild child, bool restart)
    {
        MasterLog.ChildStopping(_logger, child.Generation, child.Pid);
        if (restart)
        {
            child.AnnounceRestart();
        }

        child.Terminate();
        var exitTimeout = child.ExitTimeout ?? _options.ExitTimeout;
        int generation = child.Generation;
        var timer = _time.CreateTimer(_ => Post(new ExitTimedOut(generation)), null, exitTimeout, Timeout.InfiniteTimeSpan);
        _exitTimers[generation] = (timer, exitTimeout);
    }

    private void OnExitTimedOut(int generation)
    {
        if (!_exitTimers.Remove(generation, out var timer))
        {
            return;
        }

        timer.Timer.Dispose();
        var child = _retiring.Concat(_stopping).FirstOrDefault(c => c.Generation == generation);
        if (child is { HasExited: false })
        {
            MasterLog.ChildKilled(_logger, child.Generation, child.Pid, timer.Timeout);
            child.Kill();
        }
    }

    // A generation still starting is killed, which is no failure of it; the others drain. After STOPPING=1 only watchdog pings go to systemd.
    private void OnStopRequested()
    {
        if (_state is SupervisorState.Stopping or SupervisorState.Stopped)
        {
            return;
        }

        MasterLog.MasterStopping(_logger);
        _notifier.Stopping("Stopping every generation");
        _state = SupervisorState.Stopping;
        _backoffTimer?.Dispose();
        if (_restart is not null)
        {
            Settle(RestartOutcome.Stopping);
        }

        if (_start is { Undecided: true, Child: { } starting } start)
        {
            start.Abandon();
            // The operator asked for this stop: the start is abandoned, nothing failed.
            MasterLog.ChildStartAbandoned(_logger, start.Generation, starting.Pid);
            starting.Kill();
        }

        // Generations that drain for a restart go on draining, with their own SIGKILL deadline.
        _stopping.AddRange(_retiring);
        if (_current is { } current)
        {
            if (current.HasExited)
            {
                MasterLog.ChildExited(_logger, current.Generation, current.Pid, ChildProcess.DescribeExit(current.Exited.Result));
            }
            else
            {
                _stopping.Add(current);
                Terminate(current, restart: false);
            }
        }

        if (_start is { Child.HasExited: true } reaped)
        {
            Reaped(reaped);
        }

        CheckStopped();
    }

    // Bound sockets close once no child accepts, so new connections are refused at once, not reset after waiting in a backlog; systemd's stay.
    private void CheckStopped()
    {
        if (_state != SupervisorState.Stopping)
        {
            return;
        }

        var alive = _start?.Child is { } starting ? _stopping.Append(starting) : _stopping;
        if (!_listenersClosed && alive.All(c => c.HasExited || c.StoppedAccepting.IsCompleted))
        {
            _listenersClosed = true;
            if (!_table.FromSystemd)
            {
                MasterLog.ListenersClosedForStop(_logger, _table.CloseBound());
            }
        }

        if (_stopping.Count > 0 || _start is not null)
        {
            return;
        }

        _state = SupervisorState.Stopped;
        _current?.Dispose();
        foreach (var timer in _exitTimers.Values)
        {
            timer.Timer.Dispose();
        }

        _table.Dispose();
        foreach (var waiter in (_pending?.Waiters ?? []).Concat(_refused))
        {
            waiter.TrySetResult(RestartOutcome.Stopping);
        }

        MasterLog.MasterStopped(_logger);
        _firstGeneration.TrySetResult(false);
        _stopped.TrySetResult();
    }

    // For readers on other threads.
    private void Publish()
    {
        var children = new List<(IChild, ChildRole)>();
        if (_current is { } current)
        {
            children.Add((current, ChildRole.Serving));
        }

        if (_start?.Child is { } starting)
        {
            children.Add((starting, ChildRole.Starting));
        }

        children.AddRange(_retiring.Concat(_stopping).Where(c => c != _current).Distinct().Select(c => (c, ChildRole.Draining)));
        _view = _view with { State = _state, Children = [.. children] };
    }

    private static string Describe(IChild child) => $"Generation {child.Generation} (pid {child.Pid}) serving";

    private enum ChildRole
    {
        Serving,
        Starting,
        Draining,
    }

    // With the reloads that wait for its outcome.
    private sealed class RestartRequest
    {
        public List<TaskCompletionSource<RestartOutcome>> Waiters { get; } = [];

        // Once nothing drained any more: the restart's duration counts from here.
        public long Began { get; set; }
    }

    private sealed record StatusView(SupervisorState State, (IChild Child, ChildRole Role)[] Children, (RestartOutcome Outcome, DateTimeOffset At)? LastRestart);
}

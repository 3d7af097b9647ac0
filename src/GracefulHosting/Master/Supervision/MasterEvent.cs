namespace GracefulHosting.Master.Supervision;

/// <summary>Something the supervision must answer. The loop takes them one at a time, in order.</summary>
internal abstract record MasterEvent;

/// <summary>A restart was asked for: by the restart signal, or by the control socket's reload, which waits for its outcome.</summary>
internal sealed record RestartRequested(string Source, TaskCompletionSource<RestartOutcome>? Waiter = null) : MasterEvent;

/// <summary>The master is asked to stop (SIGTERM, SIGINT, or the host's stop).</summary>
internal sealed record StopRequested : MasterEvent;

/// <summary>A child reported READY=1.</summary>
internal sealed record ChildReady(int Generation) : MasterEvent;

/// <summary>A child exited and was reaped.</summary>
internal sealed record ChildExited(int Generation, int ExitCode) : MasterEvent;

/// <summary>A child closed its listening descriptors (STOPPING=1).</summary>
internal sealed record ChildStoppedAccepting(int Generation) : MasterEvent;

/// <summary>A starting child was not ready within StartTimeout.</summary>
internal sealed record StartTimedOut(int Generation) : MasterEvent;

/// <summary>A child told to stop outlived its ExitTimeout.</summary>
internal sealed record ExitTimedOut(int Generation) : MasterEvent;

/// <summary>The crash backoff numbered <paramref name="Attempt"/> has passed.</summary>
internal sealed record BackoffElapsed(int Attempt) : MasterEvent;

namespace GracefulHosting.Master.Supervision;

/// <summary>
/// One generation of the app as the supervision sees it: a process that reports READY=1, stops
/// accepting, exits, and takes signals. <see cref="ChildProcess"/> is the real one; unit tests use fakes.
/// </summary>
internal interface IChild : IDisposable
{
    int Generation { get; }

    int Pid { get; }

    /// <summary>The <see cref="TimeProvider"/> time stamp of the start.</summary>
    long StartedAt { get; }

    /// <summary>When the child was started, for status.</summary>
    DateTimeOffset StartedUtc { get; }

    /// <summary>The <see cref="TimeProvider"/> time stamp of the child's READY=1, or 0 until then.</summary>
    long ReadyAt { get; }

    /// <summary>Completes when the child reports READY=1.</summary>
    Task Ready { get; }

    /// <summary>Completes when the child has closed its listening descriptors, or has exited.</summary>
    Task StoppedAccepting { get; }

    /// <summary>Completes with the exit code once the child has exited and been reaped.</summary>
    Task<int> Exited { get; }

    /// <summary>The child's own ExitTimeout, which it reports with READY=1, or null.</summary>
    TimeSpan? ExitTimeout { get; }

    /// <summary>The URLs the child serves, as its Kestrel reports them.</summary>
    IReadOnlyList<string> Urls { get; }

    /// <summary>Why the master last refused the child a socket, or null.</summary>
    string? LastRefusal { get; }

    bool HasExited { get; }

    /// <summary>SIGTERM.</summary>
    void Terminate();

    /// <summary>SIGKILL.</summary>
    void Kill();

    /// <summary>Tells the child that its coming SIGTERM is a restart, not a stop of the service.</summary>
    void AnnounceRestart();
}

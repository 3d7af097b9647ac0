namespace GracefulHosting.Master.Supervision;

// ChildProcess is the real one; unit tests use fakes.
internal interface IChild : IDisposable
{
    int Generation { get; }

    int Pid { get; }

    // A TimeProvider time stamp.
    long StartedAt { get; }

    DateTimeOffset StartedUtc { get; }

    // A TimeProvider time stamp, 0 until READY=1.
    long ReadyAt { get; }

    Task Ready { get; }

    // Also completes when the child has exited.
    Task StoppedAccepting { get; }

    Task<int> Exited { get; }

    // The ExitTimeout of the child's own release, reported with READY=1.
    TimeSpan? ExitTimeout { get; }

    IReadOnlyList<string> Urls { get; }

    string? LastRefusal { get; }

    bool HasExited { get; }

    void Terminate();

    void Kill();

    // Its coming SIGTERM is a restart, not a stop of the service.
    void AnnounceRestart();
}

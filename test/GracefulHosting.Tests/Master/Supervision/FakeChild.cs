using GracefulHosting.Master.Supervision;

namespace GracefulHosting.Tests.Master.Supervision;

/// <summary>A child the test drives: it becomes ready, stops accepting and exits when told to, and records the signals it gets.</summary>
internal sealed class FakeChild(int generation, TimeProvider time) : IChild
{
    private readonly TaskCompletionSource _ready = new();
    private readonly TaskCompletionSource _stoppedAccepting = new();
    private readonly TaskCompletionSource<int> _exited = new();

    public int Generation { get; } = generation;

    public int Pid => 1000 + Generation;

    public long StartedAt { get; } = time.GetTimestamp();

    public DateTimeOffset StartedUtc { get; } = time.GetUtcNow();

    public long ReadyAt { get; private set; }

    public Task Ready => _ready.Task;

    public Task StoppedAccepting => _stoppedAccepting.Task;

    public Task<int> Exited => _exited.Task;

    public TimeSpan? ExitTimeout { get; set; }

    public IReadOnlyList<string> Urls { get; } = ["http://127.0.0.1:8080"];

    public string? LastRefusal { get; set; }

    public bool HasExited => Exited.IsCompleted;

    /// <summary>What the master did to it, in order: RESTART (the announce), SIGTERM, SIGKILL.</summary>
    public List<string> Signals { get; } = [];

    public bool Disposed { get; private set; }

    public void BecomeReady()
    {
        ReadyAt = time.GetTimestamp();
        _ready.TrySetResult();
    }

    public void StopAccepting() => _stoppedAccepting.TrySetResult();

    public void Exit(int code)
    {
        _stoppedAccepting.TrySetResult();
        _exited.TrySetResult(code);
    }

    public void Terminate() => Signals.Add("SIGTERM");

    public void Kill() => Signals.Add("SIGKILL");

    public void AnnounceRestart() => Signals.Add("RESTART");

    public void Dispose() => Disposed = true;
}

namespace GracefulHosting.Master.Supervision;

// Ends ready, failed (its child killed, the failure counted once it is reaped), or abandoned because the master stops.
internal sealed class GenerationStart(int generation, IChild? child, ITimer? timeout)
{
    public int Generation { get; } = generation;

    // Null when the process could not be started at all.
    public IChild? Child { get; } = child;

    // Once set, the child is killed and awaited.
    public string? Failure { get; private set; }

    public bool Abandoned { get; private set; }

    // Its READY=1, its exit or its start timeout still decides how it ends.
    public bool Undecided => Failure is null && !Abandoned;

    public void Fail(string failure)
    {
        timeout?.Dispose();
        Failure = failure;
    }

    public void Abandon()
    {
        timeout?.Dispose();
        Abandoned = true;
    }

    public void Succeed() => timeout?.Dispose();
}

namespace GracefulHosting.Master.Supervision;

/// <summary>
/// A generation on its way to READY=1. It ends in one of three ways: ready; failed (its child is
/// killed, and the failure counts once the child is reaped); or abandoned because the master stops.
/// </summary>
internal sealed class GenerationStart(int generation, IChild? child, ITimer? timeout)
{
    public int Generation { get; } = generation;

    /// <summary>The process, or null when it could not be started at all.</summary>
    public IChild? Child { get; } = child;

    /// <summary>Why the start failed, once it has; the child is then killed and awaited.</summary>
    public string? Failure { get; private set; }

    /// <summary>True once the master stopped while this generation was starting.</summary>
    public bool Abandoned { get; private set; }

    /// <summary>True while its READY=1, its exit or its start timeout still decides how it ends.</summary>
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

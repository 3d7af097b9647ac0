namespace GracefulHosting.Master.Supervision;

/// <summary>A child exited and was reaped.</summary>
internal sealed record ChildExited(int Generation, int ExitCode) : MasterEvent;

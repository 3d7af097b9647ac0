namespace GracefulHosting.Master.Supervision;

// Posted once the child is reaped.
internal sealed record ChildExited(int Generation, int ExitCode) : MasterEvent;

namespace GracefulHosting.Master.Supervision;

internal sealed record ExitTimedOut(int Generation) : MasterEvent;

namespace GracefulHosting.Master.Supervision;

internal sealed record StartTimedOut(int Generation) : MasterEvent;

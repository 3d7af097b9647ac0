namespace GracefulHosting.Master.Supervision;

internal sealed record BackoffElapsed(int Attempt) : MasterEvent;

namespace GracefulHosting.Master.Supervision;

/// <summary>A starting child was not ready within StartTimeout.</summary>
internal sealed record StartTimedOut(int Generation) : MasterEvent;

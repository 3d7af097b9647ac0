namespace GracefulHosting.Master.Supervision;

/// <summary>A child told to stop outlived its ExitTimeout.</summary>
internal sealed record ExitTimedOut(int Generation) : MasterEvent;

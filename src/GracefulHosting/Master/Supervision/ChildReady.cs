namespace GracefulHosting.Master.Supervision;

/// <summary>A child reported READY=1.</summary>
internal sealed record ChildReady(int Generation) : MasterEvent;

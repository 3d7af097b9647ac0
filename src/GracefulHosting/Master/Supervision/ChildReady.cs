namespace GracefulHosting.Master.Supervision;

internal sealed record ChildReady(int Generation) : MasterEvent;

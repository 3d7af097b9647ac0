namespace GracefulHosting.Master.Supervision;

/// <summary>A child closed its listening descriptors (STOPPING=1).</summary>
internal sealed record ChildStoppedAccepting(int Generation) : MasterEvent;

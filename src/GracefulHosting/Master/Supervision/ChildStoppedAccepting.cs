namespace GracefulHosting.Master.Supervision;

// STOPPING=1: the child closed its listening descriptors.
internal sealed record ChildStoppedAccepting(int Generation) : MasterEvent;

namespace GracefulHosting.Master.Supervision;

// The loop takes them one at a time, in order.
internal abstract record MasterEvent;

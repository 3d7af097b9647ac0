namespace GracefulHosting.Master.Supervision;

// Waiter: the control socket's reload, which waits for the outcome.
internal sealed record RestartRequested(string Source, TaskCompletionSource<RestartOutcome>? Waiter = null) : MasterEvent;

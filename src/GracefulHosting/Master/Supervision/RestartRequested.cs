namespace GracefulHosting.Master.Supervision;

/// <summary>A restart was asked for: by the restart signal, or by the control socket's reload, which waits for its outcome.</summary>
internal sealed record RestartRequested(string Source, TaskCompletionSource<RestartOutcome>? Waiter = null) : MasterEvent;

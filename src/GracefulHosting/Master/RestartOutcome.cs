namespace GracefulHosting.Master;

// For whoever asked for the restart: the control socket's reload.
internal sealed record RestartOutcome(bool Succeeded, string Message)
{
    public static RestartOutcome Stopping { get; } = new(false, "the master is stopping; no restart was made");
}

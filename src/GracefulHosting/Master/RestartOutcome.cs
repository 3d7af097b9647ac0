namespace GracefulHosting.Master;

/// <summary>How a restart ended, for whoever asked for it (the control socket's <c>reload</c>).</summary>
/// <param name="Succeeded">True when a new generation serves.</param>
/// <param name="Message">What happened, in one line: the generation that serves, or why the restart was rolled back.</param>
internal sealed record RestartOutcome(bool Succeeded, string Message)
{
    public static RestartOutcome Stopping { get; } = new(false, "the master is stopping; no restart was made");
}

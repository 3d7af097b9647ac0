namespace GracefulHosting.Master.Control;

/// <summary>What the control socket asks of the master.</summary>
internal interface IControlCommands
{
    /// <summary>Restarts, and completes with the outcome of the restart that covers this request.</summary>
    Task<RestartOutcome> ReloadAsync(CancellationToken cancellationToken);

    /// <summary>Lines that describe the master, each generation and the last restart.</summary>
    IReadOnlyList<string> Status();
}

namespace GracefulHosting.Master.Control;

internal interface IControlCommands
{
    // Completes with the outcome of the restart that covers this request.
    Task<RestartOutcome> ReloadAsync(CancellationToken cancellationToken);

    IReadOnlyList<string> Status();
}

namespace GracefulHosting.Master.Supervision;

/// <summary>The master is asked to stop (SIGTERM, SIGINT, or the host's stop).</summary>
internal sealed record StopRequested : MasterEvent;

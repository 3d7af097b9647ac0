namespace GracefulHosting.Master.Supervision;

// SIGTERM, SIGINT, or the host's stop.
internal sealed record StopRequested : MasterEvent;

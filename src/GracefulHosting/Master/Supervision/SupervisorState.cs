namespace GracefulHosting.Master.Supervision;

internal enum SupervisorState
{
    // A start that failed stays here until the host stops.
    Starting,

    // At most one other generation drains.
    Serving,

    // Waiting for the draining generation, stopping the old one (StopFirst), or starting the next.
    Restarting,

    // Nothing serves: waiting before a replacement starts, or starting it.
    Backoff,

    // The master stops once every child has exited.
    Stopping,

    Stopped,
}

namespace GracefulHosting.Master.Supervision;

/// <summary>The states of the master's supervision.</summary>
internal enum SupervisorState
{
    /// <summary>The first generation starts; nothing serves yet. A start that failed stays here until the host stops.</summary>
    Starting,

    /// <summary>A generation serves; at most one other drains.</summary>
    Serving,

    /// <summary>A restart is under way: waiting for the draining generation, stopping the old one (StopFirst), or starting the next.</summary>
    Restarting,

    /// <summary>Nothing serves: waiting before a replacement starts, or starting it.</summary>
    Backoff,

    /// <summary>Every child is asked to stop; the master stops once they have exited.</summary>
    Stopping,

    /// <summary>Every child has exited; nothing more happens.</summary>
    Stopped,
}

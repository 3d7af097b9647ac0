using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master;

// Event ids 1-99 are the master's and never reused; the next free one is noted at the end.
internal static partial class MasterLog
{
    [LoggerMessage(EventId = 1, EventName = "MasterStarting", Level = LogLevel.Information,
        Message = "Graceful restart master {MasterPid} starting with {ListenerCount} socket(s) from systemd; each generation asks for the sockets its Kestrel binds; restart strategy {Strategy}")]
    public static partial void MasterStarting(ILogger logger, int masterPid, int listenerCount, RestartStrategy strategy);

    [LoggerMessage(EventId = 2, EventName = "ListenerBound", Level = LogLevel.Information,
        Message = "Listening on {Address} for {Url} (fd {Fd})")]
    public static partial void ListenerBound(ILogger logger, string address, string url, int fd);

    // 3, 4 and 5 (optional address skipped, systemd socket adopted or unmatched) are retired:
    // Kestrel logs its own skipped addresses, and EndpointLog has the systemd events.

    [LoggerMessage(EventId = 6, EventName = "SocketActivationIgnored", Level = LogLevel.Warning,
        Message = "Ignoring systemd socket activation: {Reason}; binding the configured endpoints instead")]
    public static partial void SocketActivationIgnored(ILogger logger, string reason);

    [LoggerMessage(EventId = 8, EventName = "ListenerClosed", Level = LogLevel.Information,
        Message = "Closed listener {Address} for {Endpoint}: no live generation uses it")]
    public static partial void ListenerClosed(ILogger logger, string address, string endpoint);

    // 9 (EndpointsKeptUnderSocketActivation), 25 (RebindFailed) and 26 (ConfigurationReloadFailed) are
    // retired: the master no longer reads the app's endpoints; each generation asks for its sockets.

    [LoggerMessage(EventId = 10, EventName = "ChildStarted", Level = LogLevel.Information,
        Message = "Started child generation {Generation} with pid {ChildPid}")]
    public static partial void ChildStarted(ILogger logger, int generation, int childPid);

    [LoggerMessage(EventId = 11, EventName = "ChildReady", Level = LogLevel.Information,
        Message = "Child generation {Generation} (pid {ChildPid}) is ready after {ElapsedMs:0} ms")]
    public static partial void ChildReady(ILogger logger, int generation, int childPid, double elapsedMs);

    [LoggerMessage(EventId = 12, EventName = "ChildStopping", Level = LogLevel.Information,
        Message = "Stopping child generation {Generation} (pid {ChildPid}) with SIGTERM")]
    public static partial void ChildStopping(ILogger logger, int generation, int childPid);

    [LoggerMessage(EventId = 13, EventName = "ChildExited", Level = LogLevel.Information,
        Message = "Child generation {Generation} (pid {ChildPid}) exited: {Exit}")]
    public static partial void ChildExited(ILogger logger, int generation, int childPid, string exit);

    [LoggerMessage(EventId = 14, EventName = "ChildKilled", Level = LogLevel.Warning,
        Message = "Child generation {Generation} (pid {ChildPid}) outlived GracefulRestart:ExitTimeout ({ExitTimeout}); sending SIGKILL")]
    public static partial void ChildKilled(ILogger logger, int generation, int childPid, TimeSpan exitTimeout);

    [LoggerMessage(EventId = 15, EventName = "ChildFailedToStart", Level = LogLevel.Error,
        Message = "Child generation {Generation} (pid {ChildPid}) failed to start: {Reason}; it is killed")]
    public static partial void ChildFailedToStart(ILogger logger, int generation, int childPid, string reason);

    [LoggerMessage(EventId = 16, EventName = "ChildStartFailed", Level = LogLevel.Error,
        Message = "Cannot start child generation {Generation}: {Reason}")]
    public static partial void ChildStartFailed(ILogger logger, int generation, string reason);

    [LoggerMessage(EventId = 17, EventName = "ChildCrashed", Level = LogLevel.Error,
        Message = "Serving child generation {Generation} (pid {ChildPid}) exited unexpectedly: {Exit}")]
    public static partial void ChildCrashed(ILogger logger, int generation, int childPid, string exit);

    [LoggerMessage(EventId = 18, EventName = "ControlChannelClosed", Level = LogLevel.Debug,
        Message = "Control channel of child generation {Generation} (pid {ChildPid}) closed: {Reason}")]
    public static partial void ControlChannelClosed(ILogger logger, int generation, int childPid, string reason);

    [LoggerMessage(EventId = 20, EventName = "RestartRequested", Level = LogLevel.Information,
        Message = "Restart requested ({Signal})")]
    public static partial void RestartRequested(ILogger logger, string signal);

    [LoggerMessage(EventId = 21, EventName = "RestartCoalesced", Level = LogLevel.Information,
        Message = "Restart already pending; request coalesced")]
    public static partial void RestartCoalesced(ILogger logger);

    [LoggerMessage(EventId = 22, EventName = "RestartCompleted", Level = LogLevel.Information,
        Message = "Restart complete: generation {Generation} (pid {ChildPid}) serves after {ElapsedMs:0} ms")]
    public static partial void RestartCompleted(ILogger logger, int generation, int childPid, double elapsedMs);

    [LoggerMessage(EventId = 23, EventName = "RolledBack", Level = LogLevel.Warning,
        Message = "Restart rolled back: generation {Generation} (pid {ChildPid}) keeps serving; the new generation failed: {Reason}")]
    public static partial void RolledBack(ILogger logger, int generation, int childPid, string reason);

    [LoggerMessage(EventId = 24, EventName = "CrashBackoff", Level = LogLevel.Warning,
        Message = "Waiting {DelayMs:0} ms before replacing the child (crash {CrashCount} in a row)")]
    public static partial void CrashBackoff(ILogger logger, double delayMs, int crashCount);

    [LoggerMessage(EventId = 30, EventName = "MasterStopping", Level = LogLevel.Information,
        Message = "Master stopping: stopping every child")]
    public static partial void MasterStopping(ILogger logger);

    [LoggerMessage(EventId = 31, EventName = "MasterStopped", Level = LogLevel.Information,
        Message = "Master stopped")]
    public static partial void MasterStopped(ILogger logger);

    // EventId 32 (SupervisorFailed) is retired: supervision no longer stops the master.

    [LoggerMessage(EventId = 33, EventName = "StepFailed", Level = LogLevel.Error,
        Message = "Unexpected error in {Step}; it is rolled back and the serving generation keeps serving")]
    public static partial void StepFailed(ILogger logger, string step, Exception exception);

    [LoggerMessage(EventId = 34, EventName = "ListenersClosedForStop", Level = LogLevel.Information,
        Message = "No child accepts any more: closed the {Count} listening sockets, so new connections are refused instead of queued")]
    public static partial void ListenersClosedForStop(ILogger logger, int count);

    [LoggerMessage(EventId = 35, EventName = "RestartSignalWasIgnored", Level = LogLevel.Warning,
        Message = "{Signal} was ignored when the master started (as under nohup); the master handles it again, as the restart signal")]
    public static partial void RestartSignalWasIgnored(ILogger logger, string signal);

    [LoggerMessage(EventId = 36, EventName = "ChildStartAbandoned", Level = LogLevel.Information,
        Message = "Child generation {Generation} (pid {ChildPid}) was still starting when the master was asked to stop; it is stopped")]
    public static partial void ChildStartAbandoned(ILogger logger, int generation, int childPid);

    [LoggerMessage(EventId = 37, EventName = "SocketBound", Level = LogLevel.Information,
        Message = "Bound {Address} for {Setting}, asked by generation {Generation} (fd {Fd})")]
    public static partial void SocketBound(ILogger logger, string address, string setting, int generation, int fd);

    [LoggerMessage(EventId = 38, EventName = "RestartIgnoredWhileStopping", Level = LogLevel.Information,
        Message = "Restart requested ({Source}) while the master stops; ignored")]
    public static partial void RestartIgnoredWhileStopping(ILogger logger, string source);

    // Next free id: 39.
}

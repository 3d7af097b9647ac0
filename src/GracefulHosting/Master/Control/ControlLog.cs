using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master.Control;

// Event ids 500-549 are the control socket's and never reused; the next free one is noted at the end.
internal static partial class ControlLog
{
    [LoggerMessage(EventId = 500, EventName = "ControlSocketListening", Level = LogLevel.Information,
        Message = "Control socket on {Path}: run the app with '--graceful reload' or '--graceful status' to use it")]
    public static partial void Listening(ILogger logger, string path);

    [LoggerMessage(EventId = 501, EventName = "ControlSocketSkipped", Level = LogLevel.Warning,
        Message = "No control socket: {Reason}. Set GracefulRestart:ControlSocket to a path of its own to have one")]
    public static partial void Skipped(ILogger logger, string reason);

    [LoggerMessage(EventId = 502, EventName = "ControlReloadRequested", Level = LogLevel.Information,
        Message = "Restart requested on the control socket (client pid {ClientPid})")]
    public static partial void ReloadRequested(ILogger logger, int clientPid);

    [LoggerMessage(EventId = 503, EventName = "ControlPeerRefused", Level = LogLevel.Warning,
        Message = "Refused a control socket client: pid {ClientPid} runs as uid {ClientUid}, neither this user nor root")]
    public static partial void PeerRefused(ILogger logger, int clientPid, uint clientUid);

    [LoggerMessage(EventId = 504, EventName = "ControlClientFailed", Level = LogLevel.Debug,
        Message = "A control socket client's connection ended: {Reason}")]
    public static partial void ClientFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 505, EventName = "ControlAcceptFailed", Level = LogLevel.Warning,
        Message = "The control socket could not accept a client: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    // Next free id: 506.
}

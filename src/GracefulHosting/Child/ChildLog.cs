using Microsoft.Extensions.Logging;

namespace GracefulHosting.Child;

// Event ids 100-199 are the child's and never reused: 105 and 121 are retired, 130-139 are Warmup.WarmupLog's. Next free id: 115.
internal static partial class ChildLog
{
    [LoggerMessage(EventId = 100, EventName = "ChildStarting", Level = LogLevel.Information,
        Message = "Child of master {MasterPid}, generation {Generation}: each endpoint's socket comes from {SocketSource}")]
    public static partial void ChildStarting(ILogger logger, int masterPid, int generation, string socketSource);

    [LoggerMessage(EventId = 101, EventName = "ChildReady", Level = LogLevel.Information,
        Message = "Ready: serving on {Addresses}")]
    public static partial void ChildReady(ILogger logger, string addresses);

    [LoggerMessage(EventId = 102, EventName = "ChildStopAccepting", Level = LogLevel.Information,
        Message = "Stopping: no new connections; draining in-flight requests for up to {ExitTimeout}")]
    public static partial void ChildStopAccepting(ILogger logger, TimeSpan exitTimeout);

    [LoggerMessage(EventId = 103, EventName = "MasterGone", Level = LogLevel.Warning,
        Message = "The master's control channel closed; the master is gone, so this child stops")]
    public static partial void MasterGone(ILogger logger);

    [LoggerMessage(EventId = 104, EventName = "RestartSignalIgnored", Level = LogLevel.Information,
        Message = "Ignoring {Signal} in the child; send it to the master (pid {MasterPid}) to restart")]
    public static partial void RestartSignalIgnored(ILogger logger, string signal, int masterPid);

    // 105 (UnclaimedListener) is retired: a child asks for each socket, so none comes unasked.

    [LoggerMessage(EventId = 106, EventName = "ControlSendFailed", Level = LogLevel.Warning,
        Message = "Cannot tell the master '{Message}': {Reason}")]
    public static partial void ControlSendFailed(ILogger logger, string message, string reason);

    [LoggerMessage(EventId = 107, EventName = "WarmedUp", Level = LogLevel.Information,
        Message = "Warmed up with {Count} request(s) to {Path} over {Scheme} (status {Statuses}) in {ElapsedMs:0} ms, speaking {Protocol}")]
    public static partial void WarmedUp(ILogger logger, int count, string path, string scheme, string statuses, double elapsedMs, string protocol);

    [LoggerMessage(EventId = 108, EventName = "WarmupSkipped", Level = LogLevel.Warning,
        Message = "Warm-up requests to {Path} are not sent: no endpoint serves http or https")]
    public static partial void WarmupSkipped(ILogger logger, string path);

    [LoggerMessage(EventId = 109, EventName = "WarmupFailed", Level = LogLevel.Warning,
        Message = "Warm-up request to {Path} over {Scheme} failed: {Reason}; serving anyway")]
    public static partial void WarmupFailed(ILogger logger, string path, string scheme, string reason);

    [LoggerMessage(EventId = 120, EventName = "WarmupTlsHandshake", Level = LogLevel.Information,
        Message = "Warm-up TLS handshake ({Protocol}, certificate {Subject}) took {ElapsedMs:0.0} ms")]
    public static partial void WarmupTlsHandshake(ILogger logger, string protocol, string subject, double elapsedMs);

    [LoggerMessage(EventId = 110, EventName = "EndpointConfigurationChanged", Level = LogLevel.Information,
        Message = "The configuration changed; this generation keeps its endpoints. Endpoint changes take effect with the next restart (send the restart signal to the master, pid {MasterPid})")]
    public static partial void EndpointConfigurationChanged(ILogger logger, int masterPid);

    [LoggerMessage(EventId = 111, EventName = "ReadyReportFailed", Level = LogLevel.Error,
        Message = "Could not finish starting this generation; it stops, and the master keeps the one that serves")]
    public static partial void ReadyReportFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 112, EventName = "LongLivedClosed", Level = LogLevel.Information,
        Message = "Long-lived connections: {WebSockets} WebSocket(s) sent close 1001, {AlreadyClosing} WebSocket(s) already closing, " +
            "{GrpcStreams} gRPC stream(s) ended with UNAVAILABLE, {EventStreams} event stream(s) and {Marked} marked response(s) ended; " +
            "{Aborted} aborted after GracefulRestart:LongLivedGracePeriod ({GracePeriod}); done in {ElapsedMs:0} ms")]
    public static partial void LongLivedClosed(ILogger logger, int webSockets, int alreadyClosing, int grpcStreams, int eventStreams, int marked, int aborted,
        TimeSpan gracePeriod, double elapsedMs);

    [LoggerMessage(EventId = 113, EventName = "HealthPublishedOnStop", Level = LogLevel.Information,
        Message = "Health published at once as this generation stops: {Status}, to {Published} of {Publishers} health check publisher(s) in {ElapsedMs:0} ms")]
    public static partial void HealthPublishedOnStop(ILogger logger, string status, int published, int publishers, double elapsedMs);

    [LoggerMessage(EventId = 114, EventName = "HealthPublishOnStopFailed", Level = LogLevel.Warning,
        Message = "Health check publisher {Publisher} failed to publish as this generation stops; it publishes again at its next period")]
    public static partial void HealthPublishOnStopFailed(ILogger logger, string publisher, Exception exception);

    // 121 (WarmupNotHttp1) is retired: the warm-up speaks the protocol of each endpoint.
}

using Microsoft.Extensions.Logging;

namespace GracefulHosting.Systemd;

/// <summary>Log events of the systemd integration. Event ids 300-399; never reuse one.</summary>
internal static partial class SystemdLog
{
    [LoggerMessage(EventId = 300, EventName = "NotifyFailed", Level = LogLevel.Warning,
        Message = "Could not send {Message} to systemd: {Reason}")]
    public static partial void NotifyFailed(ILogger logger, string message, string reason);
}

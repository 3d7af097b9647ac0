using Microsoft.Extensions.Logging;

namespace GracefulHosting.Systemd;

// Event ids 300-399 are the systemd integration's and never reused. Next free id: 301.
internal static partial class SystemdLog
{
    [LoggerMessage(EventId = 300, EventName = "NotifyFailed", Level = LogLevel.Warning,
        Message = "Could not send {Message} to systemd: {Reason}")]
    public static partial void NotifyFailed(ILogger logger, string message, string reason);
}

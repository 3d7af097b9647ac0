using Microsoft.Extensions.Logging;

namespace GracefulHosting.Endpoints;

// Event ids 200-299 are those of the listening sockets (master and Direct mode) and never reused. Next free id: 204.
internal static partial class EndpointLog
{
    [LoggerMessage(EventId = 200, EventName = "StaleSocketFileRemoved", Level = LogLevel.Warning,
        Message = "Removed the Unix socket file {Path}: nothing accepted on it, so a process that did not stop cleanly left it")]
    public static partial void StaleSocketFileRemoved(ILogger logger, string path);

    [LoggerMessage(EventId = 201, EventName = "SystemdSocketAdopted", Level = LogLevel.Information,
        Message = "Listening on {Address} from systemd (fd {Fd}, name {FdName}) for {Url}, matched by {MatchedBy}")]
    public static partial void SystemdSocketAdopted(ILogger logger, string address, int fd, string fdName, string url, string matchedBy);

    [LoggerMessage(EventId = 202, EventName = "SystemdSocketUnused", Level = LogLevel.Warning,
        Message = "systemd passed {Address} (fd {Fd}, name {FdName}), but Kestrel asks for no endpoint it matches, so it is not served " +
            "(it stays open for a release that asks for it); name it after a Kestrel:Endpoints entry with FileDescriptorName=, or configure an endpoint with its address")]
    public static partial void SystemdSocketUnused(ILogger logger, string address, int fd, string fdName);

    [LoggerMessage(EventId = 203, EventName = "SystemdSocketsAsUrls", Level = LogLevel.Information,
        Message = "The app names no URLs or endpoints of its own, so Kestrel serves on the sockets systemd passed: {Urls}")]
    public static partial void SystemdSocketsAsUrls(ILogger logger, string urls);
}

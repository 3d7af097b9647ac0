using Microsoft.Extensions.Logging;

namespace GracefulHosting.Child.Warmup;

/// <summary>
/// The warm-up's log events. Event ids 130-139 belong to the warm-up hooks and requests and are never
/// reused (the child's other ids are in <see cref="ChildLog"/>). Next free id: 132.
/// </summary>
internal static partial class WarmupLog
{
    [LoggerMessage(EventId = 130, EventName = "WarmupHookDone", Level = LogLevel.Information,
        Message = "Warm-up hook {Name} done in {ElapsedMs:0} ms")]
    public static partial void HookDone(ILogger logger, string name, double elapsedMs);

    [LoggerMessage(EventId = 131, EventName = "WarmupFailedStart", Level = LogLevel.Error,
        Message = "Warm-up failed: {Reason}. This generation stops before it reports ready; the master keeps the one that serves")]
    public static partial void Failed(ILogger logger, string reason);
}

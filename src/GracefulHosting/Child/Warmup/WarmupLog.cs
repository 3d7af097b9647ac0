using Microsoft.Extensions.Logging;

namespace GracefulHosting.Child.Warmup;

// Event ids 130-139 are the warm-up's and never reused (the child's others are in ChildLog). Next free id: 132.
internal static partial class WarmupLog
{
    [LoggerMessage(EventId = 130, EventName = "WarmupHookDone", Level = LogLevel.Information,
        Message = "Warm-up hook {Name} done in {ElapsedMs:0} ms")]
    public static partial void HookDone(ILogger logger, string name, double elapsedMs);

    [LoggerMessage(EventId = 131, EventName = "WarmupFailedStart", Level = LogLevel.Error,
        Message = "Warm-up failed: {Reason}. This generation stops before it reports ready; the master keeps the one that serves")]
    public static partial void Failed(ILogger logger, string reason);
}

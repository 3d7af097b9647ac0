using Microsoft.Extensions.Logging;

namespace GracefulHosting.Hosting;

// Event ids 400-499 are the host level's and never reused. Next free id: 401.
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 400, EventName = "MasterHostStarted", Level = LogLevel.Information,
        Message = "GracefulHosting master (pid {MasterPid}) started: it holds the listening sockets and runs {Application} in child processes, " +
            "which log their own start. Environment {EnvironmentName}, content root {ContentRoot}. " +
            "Stop with Ctrl+C or SIGTERM; restart the app with {RestartSignal} to the master, pid {MasterPid}")]
    public static partial void MasterHostStarted(ILogger logger, int masterPid, string application, string environmentName, string contentRoot, string restartSignal);
}

using System.Runtime.Versioning;
using GracefulHosting.Master.Sockets;
using GracefulHosting.Protocol;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master.Supervision;

// Whatever a child held in the socket table is given back once it is gone, however it ends.
[SupportedOSPlatform("linux")]
internal sealed class ProcessLauncher(ChildCommand command, SocketTable table, TimeProvider time, ILogger logger) : IChildLauncher
{
    private readonly StartPriority _priority = StartPriority.FromEnvironment();

    public IChild Launch(int generation)
    {
        var child = ChildProcess.Start(command, generation, table.FromSystemd ? table.SystemdUrls : [],
            (SocketRequest request, out SocketReply reply) => table.Acquire(generation, request, out reply), time, logger);
        // The first generation has nobody serving to yield to.
        if (generation > 1)
        {
            _priority.Lower(child.Pid);
            _ = child.Ready.ContinueWith(_ => _priority.Restore(child.Pid), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }

        _ = child.Exited.ContinueWith(_ => table.Release(generation), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return child;
    }
}

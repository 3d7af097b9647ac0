using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using GracefulHosting.Interop;
using GracefulHosting.Master.Sockets;
using GracefulHosting.Protocol;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Child.Sockets;

// Direct mode: systemd's sockets, matched as a master would match them, each duplicated so that Kestrel's listener owns its copy.
[SupportedOSPlatform("linux")]
internal sealed class ActivatedSocketSource(SocketTable table) : IListenSocketSource, IDisposable
{
    public string Name => "systemd";

    // For an app that names no URLs of its own.
    public IReadOnlyList<string> Urls => table.SystemdUrls;

    public ValueTask<int> AcquireAsync(SocketRequest request, CancellationToken cancellationToken)
    {
        int fd = table.Acquire(0, request, out var reply);
        if (fd < 0)
        {
            throw reply.Refusal == SocketRefusal.InUse ? new AddressInUseException(reply.Error!) : new InvalidOperationException(reply.Error);
        }

        int duplicate = Libc.DuplicateCloseOnExec(fd);
        return duplicate >= 0
            ? ValueTask.FromResult(duplicate)
            : throw new InvalidOperationException($"Cannot duplicate systemd's socket for {request.Endpoint}: errno {Marshal.GetLastPInvokeError()}.");
    }

    public void Serving(IReadOnlyList<string> urls) => table.Serving(0, urls);

    public void Dispose() => table.Dispose();
}

using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Interop;

namespace GracefulHosting.Systemd;

// Socket does not own the descriptor: systemd keeps its own copy, so it is closed with close(2).
internal sealed record OpenedSocket(ActivatedSocket Activated, Socket Socket, EndPoint Local)
{
    public string Address => EndpointText.Format(Local) ?? Local.ToString() ?? "?";

    // Without shutdown(2), which would stop systemd's copy too.
    [SupportedOSPlatform("linux")]
    public void Release()
    {
        Socket.Dispose();
        Libc.Close(Activated.Fd);
    }
}

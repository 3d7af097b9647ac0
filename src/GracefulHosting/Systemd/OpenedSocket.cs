using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Interop;

namespace GracefulHosting.Systemd;

/// <summary>One socket systemd passed, checked, and the address it is bound to.</summary>
/// <param name="Activated">The descriptor and its <c>FileDescriptorName=</c>.</param>
/// <param name="Socket">A view of the descriptor that does not own it: systemd keeps its own copy, so close it with close(2).</param>
/// <param name="Local">The address the socket is bound to.</param>
internal sealed record OpenedSocket(ActivatedSocket Activated, Socket Socket, EndPoint Local)
{
    public string Address => EndpointText.Format(Local) ?? Local.ToString() ?? "?";

    /// <summary>Closes the descriptor without shutdown(2), which would stop systemd's copy too.</summary>
    [SupportedOSPlatform("linux")]
    public void Release()
    {
        Socket.Dispose();
        Libc.Close(Activated.Fd);
    }
}

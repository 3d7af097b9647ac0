using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Master.Sockets;

/// <summary>A listening socket and who created it.</summary>
/// <param name="Endpoint">The endpoint Kestrel asked for (text of <see cref="Endpoints.EndpointText"/>).</param>
/// <param name="Socket">The socket.</param>
/// <param name="Origin">Who created it.</param>
/// <param name="File">The socket file the master created for it, removed on close if it is still that file.</param>
[SupportedOSPlatform("linux")]
internal sealed record BoundListener(string Endpoint, Socket Socket, ListenerOrigin Origin, UnixSocketFile? File = null)
{
    /// <summary>Closes the socket; one the master did not create with close(2), since shutdown(2) would stop every copy.</summary>
    public void Close()
    {
        int fd = (int)Socket.SafeHandle.DangerousGetHandle();
        Socket.Dispose();
        if (Origin != ListenerOrigin.Bound)
        {
            Libc.Close(fd);
        }

        File?.Remove();
    }
}

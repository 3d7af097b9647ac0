using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Master.Sockets;

/// <summary>Who created a listening socket, which decides how it is closed.</summary>
internal enum ListenerOrigin
{
    /// <summary>The master bound it; disposing it closes it (and removes a Unix socket's file).</summary>
    Bound,

    /// <summary>systemd passed it and keeps its own copy; closed with close(2) only.</summary>
    Systemd,

    /// <summary>The app named an inherited descriptor with <c>ListenHandle</c>; closed with close(2) only.</summary>
    Handle,
}

/// <summary>A listening socket and who created it.</summary>
/// <param name="Endpoint">The endpoint Kestrel asked for (text of <see cref="Endpoints.EndpointText"/>).</param>
/// <param name="Socket">The socket.</param>
/// <param name="Origin">Who created it.</param>
[SupportedOSPlatform("linux")]
internal sealed record BoundListener(string Endpoint, Socket Socket, ListenerOrigin Origin)
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
    }
}

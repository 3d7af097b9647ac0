using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Master.Sockets;

// File: the socket file the master created, removed on close only if it is still that file.
[SupportedOSPlatform("linux")]
internal sealed record BoundListener(string Endpoint, Socket Socket, ListenerOrigin Origin, UnixSocketFile? File = null)
{
    // One the master did not create is closed with close(2): shutdown(2) would stop every copy.
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

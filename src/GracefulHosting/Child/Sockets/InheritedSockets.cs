using System.Runtime.Versioning;
using GracefulHosting.Interop;
using GracefulHosting.Protocol;

namespace GracefulHosting.Child.Sockets;

/// <summary>
/// The listening sockets this process serves on, each asked for as its Kestrel binds an endpoint:
/// from the master over the control channel, or from systemd's sockets in Direct mode. A socket Kestrel
/// lets go of without stopping (it reloaded its configuration) is kept for the same endpoint, so
/// Kestrel binds it again without asking.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class InheritedSockets
{
    private readonly List<InheritedListener> _returned = [];
    private readonly List<int> _closed = [];
    private readonly Lock _lock = new();
    private int _taken;

    public InheritedSockets(ChildMarker marker, IListenSocketSource source)
    {
        Marker = marker;
        Source = source;
    }

    public ChildMarker Marker { get; }

    public IListenSocketSource Source { get; }

    /// <summary>How many sockets this process has been given.</summary>
    public int Count => Volatile.Read(ref _taken);

    /// <summary>
    /// Checks that the control descriptor the marker names is the master's channel (an AF_UNIX packet
    /// socket) and makes it close-on-exec, so the app's own subprocesses don't inherit it.
    /// </summary>
    public static void ValidateControl(ChildMarker marker)
    {
        string control = $"{ChildMarker.VariableName}: control descriptor {marker.ControlFd}";
        SocketDescriptors.CheckSocket(marker.ControlFd, control, out int domain, out int type);
        if (domain != Libc.AF_UNIX || type != Libc.SOCK_SEQPACKET)
        {
            throw new InvalidOperationException($"{control} is not the master's control channel (an AF_UNIX packet socket).");
        }

        SocketDescriptors.Check(Libc.SetCloseOnExec(marker.ControlFd, closeOnExec: true), control);
    }

    /// <summary>
    /// The socket for <paramref name="request"/>: one Kestrel gave back for the same endpoint, else a new
    /// one from <see cref="Source"/>, checked to be a listening stream socket. Throws as a failed bind would.
    /// </summary>
    public async ValueTask<InheritedListener> TakeAsync(SocketRequest request, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            int index = _returned.FindIndex(l => l.Endpoint == request.Endpoint);
            if (index >= 0)
            {
                var kept = _returned[index];
                _returned.RemoveAt(index);
                return kept;
            }
        }

        int fd = await Source.AcquireAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            SocketDescriptors.CheckListeningStream(fd, $"the socket {Source.Name} passed for {request.Endpoint} (fd {fd})");
        }
        catch (InvalidOperationException)
        {
            Libc.Close(fd);
            throw;
        }

        lock (_lock)
        {
            // The kernel hands out the lowest free number: one closed before may be this new socket's.
            _closed.Remove(fd);
        }

        Interlocked.Increment(ref _taken);
        return new InheritedListener(fd, request.Endpoint);
    }

    /// <summary>
    /// Keeps a socket Kestrel let go of without stopping (it reloaded its configuration), so that
    /// Kestrel can bind it again; it is closed with <see cref="CloseReturned"/> if nothing does.
    /// </summary>
    public void Return(InheritedListener listener)
    {
        lock (_lock)
        {
            if (!_closed.Contains(listener.Fd) && !_returned.Contains(listener))
            {
                _returned.Add(listener);
            }
        }
    }

    /// <summary>
    /// Closes a listening descriptor with close(2). A disposing <see cref="System.Net.Sockets.Socket"/>
    /// would call shutdown(2) on a close-on-exec socket, which stops every process that shares it.
    /// </summary>
    public void Close(int fd)
    {
        lock (_lock)
        {
            if (_closed.Contains(fd))
            {
                return;
            }

            _closed.Add(fd);
            _returned.RemoveAll(l => l.Fd == fd);
        }

        Libc.Close(fd);
    }

    /// <summary>Closes the sockets Kestrel gave back and did not bind again.</summary>
    public void CloseReturned()
    {
        InheritedListener[] returned;
        lock (_lock)
        {
            returned = [.. _returned];
        }

        foreach (var listener in returned)
        {
            Close(listener.Fd);
        }
    }
}

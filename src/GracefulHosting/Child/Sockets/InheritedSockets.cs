using System.Runtime.Versioning;
using GracefulHosting.Interop;
using GracefulHosting.Protocol;

namespace GracefulHosting.Child.Sockets;

// A socket Kestrel lets go of when it reloads its configuration is kept for the same endpoint, so it binds again without asking.
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

    public int Count => Volatile.Read(ref _taken);

    public static void ValidateControl(ChildMarker marker)
    {
        string control = $"{ChildMarker.VariableName}: control descriptor {marker.ControlFd}";
        SocketDescriptors.CheckSocket(marker.ControlFd, control, out int domain, out int type);
        if (domain != Libc.AF_UNIX || type != Libc.SOCK_SEQPACKET)
        {
            throw new InvalidOperationException($"{control} is not the master's control channel (an AF_UNIX packet socket).");
        }

        // So that the app's own subprocesses never inherit the master's channel.
        SocketDescriptors.Check(Libc.SetCloseOnExec(marker.ControlFd, closeOnExec: true), control);
    }

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

    // Kestrel reloaded its configuration and will bind again: keep the socket for that; CloseReturned closes it if nothing does.
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

    // close(2), not a disposing Socket: that calls shutdown(2) on a close-on-exec socket, which stops every process sharing it.
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

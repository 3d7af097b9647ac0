using System.Runtime.Versioning;
using GracefulHosting.Interop;

namespace GracefulHosting.Child;

/// <summary>
/// The listening sockets and control channel a child inherited, checked before Kestrel sees them.
/// Kestrel asks for endpoints; <see cref="TryTake"/> answers with the inherited descriptor for each.
/// In Direct mode the sockets come from systemd and are matched when the host starts (<see cref="Adopt"/>).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class InheritedSockets
{
    private List<InheritedListener> _unclaimed;
    private readonly List<int> _closed = [];
    private readonly Lock _lock = new();

    public InheritedSockets(ChildMarker marker)
    {
        Marker = marker;
        _unclaimed = [.. marker.Listeners];
    }

    public ChildMarker Marker { get; private set; }

    /// <summary>Listeners no Kestrel endpoint asked for.</summary>
    public IReadOnlyList<InheritedListener> Unclaimed
    {
        get
        {
            lock (_lock)
            {
                return [.. _unclaimed];
            }
        }
    }

    /// <summary>
    /// Checks that every descriptor exists, is a socket and listens (the control channel: an AF_UNIX
    /// packet socket), then marks them close-on-exec so the app's own subprocesses don't inherit them.
    /// </summary>
    public static InheritedSockets Validate(ChildMarker marker)
    {
        foreach (var listener in marker.Listeners)
        {
            SocketDescriptors.CheckListeningStream(listener.Fd, $"{ChildMarker.VariableName}: listen descriptor {listener.Fd}");
        }

        string control = $"{ChildMarker.VariableName}: control descriptor {marker.ControlFd}";
        SocketDescriptors.CheckSocket(marker.ControlFd, control, out int controlDomain, out int controlType);
        if (controlDomain != Libc.AF_UNIX || controlType != Libc.SOCK_SEQPACKET)
        {
            throw new InvalidOperationException($"{control} is not the master's control channel (an AF_UNIX packet socket).");
        }

        foreach (int fd in marker.Listeners.Select(l => l.Fd).Append(marker.ControlFd))
        {
            SocketDescriptors.Check(Libc.SetCloseOnExec(fd, closeOnExec: true), $"{ChildMarker.VariableName}: descriptor {fd}");
        }

        return new InheritedSockets(marker);
    }

    /// <summary>Takes the sockets a Direct-mode process matched to the endpoints of its Kestrel, before Kestrel starts.</summary>
    public void Adopt(IReadOnlyList<InheritedListener> listeners)
    {
        lock (_lock)
        {
            Marker = Marker with { Listeners = listeners };
            _unclaimed = [.. listeners];
        }
    }

    /// <summary>Claims the inherited descriptor that stands in for <paramref name="endpoint"/> (text of <see cref="Endpoints.EndpointText"/>).</summary>
    public bool TryTake(string endpoint, out int fd)
    {
        lock (_lock)
        {
            int index = _unclaimed.FindIndex(l => l.Endpoint == endpoint);
            if (index < 0)
            {
                fd = -1;
                return false;
            }

            fd = _unclaimed[index].Fd;
            _unclaimed.RemoveAt(index);
            return true;
        }
    }

    /// <summary>
    /// Gives back a socket Kestrel let go of without stopping (it reloaded its configuration), so that
    /// Kestrel can bind it again; it is closed with the unclaimed ones if nothing does.
    /// </summary>
    public void Return(InheritedListener listener)
    {
        lock (_lock)
        {
            if (!_closed.Contains(listener.Fd) && !_unclaimed.Contains(listener))
            {
                _unclaimed.Add(listener);
            }
        }
    }

    /// <summary>
    /// Closes an inherited listening descriptor with close(2). A disposing <see cref="System.Net.Sockets.Socket"/>
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
        }

        Libc.Close(fd);
    }

    /// <summary>Closes the listening descriptors that no endpoint claimed.</summary>
    public void CloseUnclaimed()
    {
        foreach (var listener in Unclaimed)
        {
            Close(listener.Fd);
        }
    }
}

using System.Runtime.Versioning;

namespace GracefulHosting.Child.Sockets;

/// <summary>The listeners Kestrel bound on inherited sockets, so the child can stop them all at once.</summary>
[SupportedOSPlatform("linux")]
internal sealed class ChildListeners
{
    private readonly List<InheritedConnectionListener> _listeners = [];
    private readonly Lock _lock = new();

    public void Add(InheritedConnectionListener listener)
    {
        lock (_lock)
        {
            _listeners.Add(listener);
        }
    }

    /// <summary>The listeners bound so far, in the order Kestrel bound them.</summary>
    public IReadOnlyList<InheritedConnectionListener> Snapshot()
    {
        lock (_lock)
        {
            return [.. _listeners];
        }
    }

    public async Task UnbindAllAsync()
    {
        InheritedConnectionListener[] listeners;
        lock (_lock)
        {
            listeners = [.. _listeners];
        }

        foreach (var listener in listeners)
        {
            await listener.UnbindAsync().ConfigureAwait(false);
        }
    }
}

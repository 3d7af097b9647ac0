using System.Runtime.Versioning;

namespace GracefulHosting.Child.Sockets;

// So that the child can stop every listener at once when it starts draining.
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

    // In bind order: the warm-up takes the first http and the first https listener.
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

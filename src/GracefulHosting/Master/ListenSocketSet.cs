using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Child;
using GracefulHosting.Endpoints;
using GracefulHosting.Interop;
using GracefulHosting.Systemd;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master;

/// <summary>Who created a listening socket of the master, which decides how it is closed.</summary>
internal enum ListenerOrigin
{
    /// <summary>The master bound it; disposing it closes it (and removes a Unix socket's file).</summary>
    Bound,

    /// <summary>systemd passed it and keeps its own copy; closed with close(2) only.</summary>
    Systemd,

    /// <summary>The app gave it to Kestrel with <c>ListenHandle</c>; closed with close(2) only.</summary>
    Handle,
}

/// <summary>A listening socket the master owns, and the endpoint Kestrel asked for that it stands in for.</summary>
/// <param name="Endpoint">The endpoint Kestrel asked for (text of <see cref="EndpointText"/>), which the child's Kestrel asks for too.</param>
/// <param name="Socket">The socket.</param>
/// <param name="Origin">Who created it.</param>
[SupportedOSPlatform("linux")]
internal sealed record BoundListener(string Endpoint, Socket Socket, ListenerOrigin Origin)
{
    public int Fd => (int)Socket.SafeHandle.DangerousGetHandle();

    /// <summary>The address the socket is bound to.</summary>
    public string Address => Socket.LocalEndPoint is { } local ? EndpointText.Format(local) ?? local.ToString() ?? "?" : "?";

    public void Close()
    {
        int fd = Fd;
        Socket.Dispose();
        if (Origin != ListenerOrigin.Bound)
        {
            Libc.Close(fd);
        }
    }
}

/// <summary>
/// The step from the sockets a generation serves on to those of the next one. <see cref="Added"/> were
/// bound for this step only: a rollback closes them, and no serving generation uses them.
/// <see cref="Removed"/> are closed once the generation that uses them has exited.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed record SocketChange(ListenSocketSet Next, IReadOnlyList<BoundListener> Added, IReadOnlyList<BoundListener> Removed)
{
    /// <summary>No change: the next generation gets the same sockets, and nothing is bound or closed.</summary>
    public static SocketChange Keep(ListenSocketSet current) => new(current, [], []);
}

/// <summary>
/// The master's listening sockets: one for each endpoint the app's Kestrel asks for, as Kestrel
/// itself decides (see <see cref="KestrelEndpointProbe"/>). They stay open for the master's whole life.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ListenSocketSet : IDisposable
{
    private ListenSocketSet(IReadOnlyList<BoundListener> listeners, bool fromSystemd, IReadOnlyList<string> hostingUrls)
    {
        Listeners = listeners;
        FromSystemd = fromSystemd;
        HostingUrls = hostingUrls;
    }

    public IReadOnlyList<BoundListener> Listeners { get; }

    /// <summary>True when the sockets came from systemd socket activation.</summary>
    public bool FromSystemd { get; }

    /// <summary>The URLs of systemd's sockets when they stand in for the app's hosting URLs (it names none), else empty.</summary>
    public IReadOnlyList<string> HostingUrls { get; }

    /// <summary>Binds a socket for every endpoint the app's Kestrel asks for; on failure closes what it bound and throws with the setting's name.</summary>
    public static async Task<ListenSocketSet> BindAsync(KestrelEndpointProbe probe, ILogger logger, CancellationToken cancellationToken) =>
        (await BindAsync(probe, null, logger, cancellationToken).ConfigureAwait(false)).Set;

    /// <summary>
    /// The sockets for the next generation after the configuration was reloaded: Kestrel is asked again,
    /// endpoints it still asks for keep their socket, new ones are bound now. Sockets of endpoints it no
    /// longer asks for stay open until the caller closes them (after the generation that uses them has
    /// exited). If a bind fails, what was bound here is closed again and the exception names the setting.
    /// </summary>
    public async Task<SocketChange> RebindAsync(KestrelEndpointProbe probe, ILogger logger, CancellationToken cancellationToken)
    {
        if (FromSystemd)
        {
            throw new InvalidOperationException("Sockets from systemd are not rebound.");
        }

        var (next, added) = await BindAsync(probe, Listeners, logger, cancellationToken).ConfigureAwait(false);
        if (added.Count == 0 && next.Listeners.Count == Listeners.Count)
        {
            return SocketChange.Keep(this);
        }

        return new SocketChange(next, added, [.. Listeners.Except(next.Listeners)]);
    }

    /// <summary>
    /// Takes over the sockets systemd passed and binds none: each endpoint the app's Kestrel asks for is
    /// matched to one of them (<see cref="ActivatedSockets.PlanAsync"/>). Sockets nothing asks for are closed.
    /// </summary>
    public static async Task<ListenSocketSet> AdoptAsync(KestrelEndpointProbe probe, SocketActivation activation, ILogger logger, CancellationToken cancellationToken)
    {
        var plan = await ActivatedSockets.PlanAsync(probe, activation, cancellationToken).ConfigureAwait(false);
        plan.LogAndReleaseUnused(logger);
        var listeners = plan.Adopted.Select(a => new BoundListener(a.Endpoint, a.Socket.Socket, ListenerOrigin.Systemd)).ToList();
        return new ListenSocketSet(listeners, fromSystemd: true, plan.HostingUrls);
    }

    private static async Task<(ListenSocketSet Set, IReadOnlyList<BoundListener> Added)> BindAsync(
        KestrelEndpointProbe probe, IReadOnlyList<BoundListener>? current, ILogger logger, CancellationToken cancellationToken)
    {
        var available = current?.ToList() ?? [];
        var listeners = new List<BoundListener>();
        var added = new List<BoundListener>();
        IReadOnlyList<string> urls;
        try
        {
            urls = await probe.RunAsync(settings => requested =>
            {
                string endpoint = EndpointText.Format(requested)!;
                int index = available.FindIndex(l => l.Endpoint == endpoint);
                BoundListener listener;
                if (index >= 0)
                {
                    listener = available[index];
                    available.RemoveAt(index);
                }
                else
                {
                    listener = SocketBinder.Bind(requested, endpoint, settings.Describe(endpoint), logger);
                    added.Add(listener);
                }

                listeners.Add(listener);
                return listener.Socket.LocalEndPoint!;
            }, [], cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            foreach (var listener in added)
            {
                listener.Close();
            }

            throw;
        }

        foreach (var listener in added)
        {
            MasterLog.ListenerBound(logger, listener.Address, EndpointText.FindUrl(urls, listener.Socket.LocalEndPoint), listener.Fd);
        }

        return (new ListenSocketSet(listeners, fromSystemd: false, []), added);
    }

    /// <summary>The marker that tells a child which inherited descriptor stands in for which endpoint.</summary>
    public ChildMarker CreateMarker(int generation, int controlFd) =>
        new(generation, controlFd, Listeners.Select(l => new InheritedListener(l.Fd, l.Endpoint)).ToList()) { HostingUrls = HostingUrls };

    /// <summary>Closes the given listeners of this set (those Kestrel no longer asks for).</summary>
    public static void Close(IEnumerable<BoundListener> listeners, ILogger logger)
    {
        foreach (var listener in listeners)
        {
            string address = listener.Address;
            listener.Close();
            MasterLog.ListenerClosed(logger, address, listener.Endpoint);
        }
    }

    public void Dispose()
    {
        foreach (var listener in Listeners)
        {
            listener.Close();
        }
    }
}

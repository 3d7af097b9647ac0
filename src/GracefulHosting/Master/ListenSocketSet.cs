using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Interop;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Master;

/// <summary>
/// A listening socket the master owns, and the Kestrel addresses it stands in for; or, with
/// <paramref name="ExtraScheme"/>, a socket from systemd that the child serves as its own endpoint.
/// </summary>
internal sealed record BoundListener(ListenEndpoint Endpoint, Socket Socket, IReadOnlyList<IPEndPoint> Addresses, string? ExtraScheme = null)
{
    public int Fd => (int)Socket.SafeHandle.DangerousGetHandle();
}

/// <summary>
/// The step from the sockets a generation serves on to those of the next one. <see cref="Added"/> were
/// bound for this step only: a rollback closes them, and no serving generation uses them.
/// <see cref="Removed"/> are closed once the generation that uses them has exited.
/// </summary>
internal sealed record SocketChange(ListenSocketSet Next, IReadOnlyList<BoundListener> Added, IReadOnlyList<BoundListener> Removed)
{
    /// <summary>No change: the next generation gets the same sockets, and nothing is bound or closed.</summary>
    public static SocketChange Keep(ListenSocketSet current) => new(current, [], []);
}

/// <summary>The master's listening sockets. They stay open for the master's whole life.</summary>
[SupportedOSPlatform("linux")]
internal sealed class ListenSocketSet : IDisposable
{
    private const int Backlog = 512;
    private const int SO_REUSEADDR = 2;

    private ListenSocketSet(IReadOnlyList<BoundListener> listeners, bool fromSystemd)
    {
        Listeners = listeners;
        FromSystemd = fromSystemd;
    }

    public IReadOnlyList<BoundListener> Listeners { get; }

    /// <summary>True when the sockets came from systemd socket activation.</summary>
    public bool FromSystemd { get; }

    /// <summary>
    /// The sockets for the next generation after the configuration changed: listeners whose URL is
    /// unchanged are kept, listeners for new URLs are bound now. Listeners for URLs that are gone stay
    /// open until the caller closes them (after the generation that uses them has exited). If a bind
    /// fails, what was bound here is closed again and the exception names the setting.
    /// </summary>
    public SocketChange Rebind(IReadOnlyList<ListenEndpoint> endpoints, ILogger logger)
    {
        if (FromSystemd)
        {
            throw new InvalidOperationException("Sockets from systemd are not rebound.");
        }

        var kept = new List<BoundListener>();
        var unbound = new List<ListenEndpoint>();
        foreach (var endpoint in endpoints)
        {
            var existing = Listeners.Where(l => string.Equals(l.Endpoint.Url, endpoint.Url, StringComparison.OrdinalIgnoreCase)).ToList();
            if (existing.Count > 0)
            {
                kept.AddRange(existing.Where(l => !kept.Contains(l)));
            }
            else
            {
                unbound.Add(endpoint);
            }
        }

        var added = BindAll(unbound, logger);
        if (added.Count == 0 && kept.Count == Listeners.Count)
        {
            return SocketChange.Keep(this);
        }

        return new SocketChange(new ListenSocketSet([.. kept, .. added], fromSystemd: false), added, [.. Listeners.Except(kept)]);
    }

    /// <summary>Closes the given listeners of this set (those a new configuration no longer names).</summary>
    public static void Close(IEnumerable<BoundListener> listeners, ILogger logger)
    {
        foreach (var listener in listeners)
        {
            MasterLog.ListenerClosed(logger, listener.Socket.LocalEndPoint?.ToString() ?? "?", listener.Endpoint.Url);
            listener.Socket.Dispose();
        }
    }

    /// <summary>
    /// Takes over the sockets systemd passed and binds none. Each is matched to a Kestrel endpoint by
    /// <c>LISTEN_FDNAMES</c>, else by its address; unmatched ones are served as extra HTTP endpoints.
    /// </summary>
    public static ListenSocketSet Adopt(IReadOnlyList<ListenEndpoint> endpoints, Systemd.SocketActivation activation, ILogger logger)
    {
        var sockets = new List<(Systemd.ActivatedSocket Socket, Socket Handle, IPEndPoint Local)>();
        try
        {
            foreach (var activated in activation.Sockets)
            {
                var handle = Systemd.ActivatedSockets.Open(activated);
                sockets.Add((activated, handle, (IPEndPoint)handle.LocalEndPoint!));
            }

            var plan = Systemd.ActivatedSockets.Plan(endpoints, sockets.Select(s => (s.Socket, s.Local)).ToList());
            var listeners = new List<BoundListener>();
            for (int i = 0; i < sockets.Count; i++)
            {
                var planned = plan[i];
                listeners.Add(new BoundListener(planned.Endpoint, sockets[i].Handle, planned.Addresses, planned.ExtraScheme));
                if (planned.MatchedBy is null)
                {
                    MasterLog.SystemdSocketUnmatched(logger, planned.Local.ToString(), planned.Socket.Fd, planned.Socket.Name ?? "-");
                }
                else
                {
                    MasterLog.SystemdSocketAdopted(logger, planned.Local.ToString(), planned.Socket.Fd, planned.Socket.Name ?? "-", planned.Endpoint.Source, planned.MatchedBy);
                }
            }

            return new ListenSocketSet(listeners, fromSystemd: true);
        }
        catch
        {
            foreach (var socket in sockets)
            {
                socket.Handle.Dispose();
                Libc.Close(socket.Socket.Fd);
            }

            throw;
        }
    }

    /// <summary>Binds every endpoint; on failure closes what was bound and throws with the setting's name.</summary>
    public static ListenSocketSet Bind(IReadOnlyList<ListenEndpoint> endpoints, ILogger logger) =>
        new(BindAll(endpoints, logger), fromSystemd: false);

    /// <summary>Binds every target of every endpoint; on failure closes what it bound and rethrows.</summary>
    private static List<BoundListener> BindAll(IEnumerable<ListenEndpoint> endpoints, ILogger logger)
    {
        var bound = new List<BoundListener>();
        try
        {
            foreach (var endpoint in endpoints)
            {
                foreach (var target in endpoint.Targets)
                {
                    var listener = BindTarget(endpoint, target, logger);
                    if (listener is not null)
                    {
                        bound.Add(listener);
                        MasterLog.ListenerBound(logger, endpoint.Url, listener.Socket.LocalEndPoint?.ToString() ?? "?", listener.Fd, endpoint.Source);
                    }
                }
            }
        }
        catch
        {
            foreach (var listener in bound)
            {
                listener.Socket.Dispose();
            }

            throw;
        }

        return bound;
    }

    private static BoundListener? BindTarget(ListenEndpoint endpoint, BindTarget target, ILogger logger)
    {
        var address = target.EndPoint;
        if (address.Address.Equals(IPAddress.IPv6Any))
        {
            // Kestrel binds "*" as a dual-mode IPv6 socket and falls back to IPv4 where IPv6 is missing.
            try
            {
                return new BoundListener(endpoint, Open(address, dualMode: true), [address]);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable or SocketError.ProtocolNotSupported)
            {
                var v4 = new IPEndPoint(IPAddress.Any, address.Port);
                return new BoundListener(endpoint, OpenOrThrow(endpoint, v4), [address, v4]);
            }
            catch (SocketException e)
            {
                throw BindFailed(endpoint, address, e);
            }
        }

        if (!target.Required)
        {
            try
            {
                return new BoundListener(endpoint, Open(address, dualMode: false), [address]);
            }
            catch (SocketException e) when (e.SocketErrorCode is not SocketError.AddressAlreadyInUse and not SocketError.AccessDenied)
            {
                MasterLog.OptionalListenerSkipped(logger, endpoint.Url, address.ToString(), e.Message);
                return null;
            }
            catch (SocketException e)
            {
                throw BindFailed(endpoint, address, e);
            }
        }

        return new BoundListener(endpoint, OpenOrThrow(endpoint, address), [address]);
    }

    private static Socket OpenOrThrow(ListenEndpoint endpoint, IPEndPoint address)
    {
        try
        {
            return Open(address, dualMode: false);
        }
        catch (SocketException e)
        {
            throw BindFailed(endpoint, address, e);
        }
    }

    private static Socket Open(IPEndPoint address, bool dualMode)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (dualMode)
            {
                socket.DualMode = true;
            }

            // Plain SO_REUSEADDR, as Kestrel binds: SocketOptionName.ReuseAddress would add SO_REUSEPORT on
            // Linux, and the bind would then share a port that another server already listens on.
            socket.SetRawSocketOption(Libc.SOL_SOCKET, SO_REUSEADDR, BitConverter.GetBytes(1));
            socket.Bind(address);
            socket.Listen(Backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static InvalidOperationException BindFailed(ListenEndpoint endpoint, IPEndPoint address, SocketException e)
    {
        string reason = e.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse => "the address is already in use by another process",
            SocketError.AccessDenied => "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
            SocketError.AddressNotAvailable => "the address does not belong to this machine",
            _ => e.Message,
        };
        return new InvalidOperationException(
            $"Cannot listen on {address} for {endpoint.Source} = '{endpoint.Url}': {reason}.", e);
    }

    public void Dispose()
    {
        foreach (var listener in Listeners)
        {
            int fd = listener.Fd;
            listener.Socket.Dispose();
            if (FromSystemd)
            {
                // systemd keeps its own copy of these sockets: close ours without shutdown(2).
                Libc.Close(fd);
            }
        }
    }
}

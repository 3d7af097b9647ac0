using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Interop;

namespace GracefulHosting.Systemd;

/// <summary>How one socket from systemd was matched to a Kestrel endpoint.</summary>
/// <param name="Endpoint">The endpoint, or null when none matches.</param>
/// <param name="Addresses">The addresses Kestrel asks for that this socket stands in for.</param>
/// <param name="ByName">True when matched by <c>LISTEN_FDNAMES</c>, false when by address.</param>
internal sealed record ActivationMatch(ListenEndpoint? Endpoint, IReadOnlyList<IPEndPoint> Addresses, bool ByName);

/// <summary>How one socket from systemd will be served; <paramref name="MatchedBy"/> is null when nothing matched.</summary>
internal sealed record PlannedSocket(ActivatedSocket Socket, IPEndPoint Local, ListenEndpoint Endpoint,
    IReadOnlyList<IPEndPoint> Addresses, string? ExtraScheme, string? MatchedBy);

/// <summary>Checks the sockets systemd passed and matches them to the app's endpoints.</summary>
internal static class ActivatedSockets
{
    /// <summary>Validates a passed descriptor and takes ownership of it as a close-on-exec <see cref="Socket"/>.</summary>
    [SupportedOSPlatform("linux")]
    public static Socket Open(ActivatedSocket activated)
    {
        int fd = activated.Fd;
        string name = $"LISTEN_FDS: descriptor {fd}" + (activated.Name is null ? "" : $" ('{activated.Name}')");
        SocketDescriptors.CheckListeningTcp(fd, name, "; only TCP sockets (ListenStream= with an IP address) are supported");
        Libc.SetCloseOnExec(fd, closeOnExec: true);
        // Not owned: disposing an owning Socket would shutdown(2) systemd's copy too. The owner
        // closes the descriptor with close(2).
        return new Socket(new SafeSocketHandle(fd, ownsHandle: false));
    }

    /// <summary>
    /// Matches each socket to an endpoint: first by name (<c>FileDescriptorName=</c> equals the name
    /// of a <c>Kestrel:Endpoints</c> entry), then by the address it is bound to.
    /// </summary>
    public static IReadOnlyList<ActivationMatch> Match(IReadOnlyList<ListenEndpoint> endpoints, IReadOnlyList<(ActivatedSocket Socket, IPEndPoint Local)> sockets)
    {
        var matches = new ActivationMatch?[sockets.Count];
        var claimedTargets = new HashSet<(ListenEndpoint, int)>();

        for (int i = 0; i < sockets.Count; i++)
        {
            string? name = sockets[i].Socket.Name;
            var endpoint = name is null ? null : endpoints.FirstOrDefault(e =>
                e.Source.StartsWith("Kestrel:Endpoints:", StringComparison.Ordinal) &&
                string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase) &&
                !claimedTargets.Contains((e, 0)));
            if (endpoint is not null)
            {
                for (int t = 0; t < endpoint.Targets.Count; t++)
                {
                    claimedTargets.Add((endpoint, t));
                }

                matches[i] = new ActivationMatch(endpoint, endpoint.Targets.Select(t => t.EndPoint).Distinct().ToList(), ByName: true);
            }
        }

        for (int i = 0; i < sockets.Count; i++)
        {
            if (matches[i] is not null)
            {
                continue;
            }

            var local = sockets[i].Local;
            foreach (var endpoint in endpoints)
            {
                int target = FindTarget(endpoint, local, claimedTargets);
                if (target >= 0)
                {
                    claimedTargets.Add((endpoint, target));
                    var requested = endpoint.Targets[target].EndPoint;
                    matches[i] = new ActivationMatch(endpoint, requested.Equals(local) ? [requested] : [requested, local], ByName: false);
                    break;
                }
            }

            matches[i] ??= new ActivationMatch(null, [], ByName: false);
        }

        return matches!;
    }

    /// <summary>
    /// Decides how each socket is served: as the Kestrel endpoint it matches (the child resolves the
    /// endpoint's addresses to it), or as an extra endpoint of the child's own, with a scheme: sockets
    /// matched to <c>urls</c>/<c>http_ports</c> entries, and sockets nothing matches (plain HTTP).
    /// </summary>
    public static IReadOnlyList<PlannedSocket> Plan(IReadOnlyList<ListenEndpoint> endpoints, IReadOnlyList<(ActivatedSocket Socket, IPEndPoint Local)> sockets)
    {
        var matches = Match(endpoints, sockets);
        CheckEveryEndpointHasSocket(endpoints, matches);
        var plan = new List<PlannedSocket>();
        for (int i = 0; i < sockets.Count; i++)
        {
            var (activated, local) = sockets[i];
            var match = matches[i];
            if (match.Endpoint is { } endpoint && endpoint.Source.StartsWith("Kestrel:Endpoints:", StringComparison.Ordinal))
            {
                plan.Add(new PlannedSocket(activated, local, endpoint, match.Addresses, null, match.ByName ? "name" : "address"));
            }
            else if (match.Endpoint is { } urlEndpoint)
            {
                string scheme = urlEndpoint.Url.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? "https" : "http";
                plan.Add(new PlannedSocket(activated, local, urlEndpoint, [], scheme, "address"));
            }
            else
            {
                var extra = new ListenEndpoint(activated.Name ?? $"systemd{activated.Fd}", $"http://{local}", "LISTEN_FDS", []);
                plan.Add(new PlannedSocket(activated, local, extra, [], "http", null));
            }
        }

        return plan;
    }

    /// <summary>Under socket activation the master binds nothing: every configured Kestrel endpoint needs a socket.</summary>
    public static void CheckEveryEndpointHasSocket(IReadOnlyList<ListenEndpoint> endpoints, IReadOnlyList<ActivationMatch> matches)
    {
        foreach (var endpoint in endpoints.Where(e => e.Source.StartsWith("Kestrel:Endpoints:", StringComparison.Ordinal)))
        {
            if (!matches.Any(m => ReferenceEquals(m.Endpoint, endpoint)))
            {
                throw new InvalidOperationException(
                    $"{endpoint.Source} = '{endpoint.Url}' has no socket from systemd: name one FileDescriptorName={endpoint.Name} " +
                    "or listen on its address in the .socket unit. Under socket activation the master binds nothing itself.");
            }
        }
    }

    private static int FindTarget(ListenEndpoint endpoint, IPEndPoint local, HashSet<(ListenEndpoint, int)> claimed)
    {
        for (int t = 0; t < endpoint.Targets.Count; t++)
        {
            if (claimed.Contains((endpoint, t)))
            {
                continue;
            }

            var wanted = endpoint.Targets[t].EndPoint;
            if (wanted.Port != local.Port && wanted.Port != 0)
            {
                continue;
            }

            bool wantsAny = wanted.Address.Equals(IPAddress.IPv6Any) || wanted.Address.Equals(IPAddress.Any);
            bool isAny = local.Address.Equals(IPAddress.IPv6Any) || local.Address.Equals(IPAddress.Any);
            if (wanted.Port == local.Port && (wanted.Address.Equals(local.Address) || (wantsAny && isAny) ||
                (local.Address.IsIPv4MappedToIPv6 && local.Address.MapToIPv4().Equals(wanted.Address))))
            {
                return t;
            }
        }

        return -1;
    }
}

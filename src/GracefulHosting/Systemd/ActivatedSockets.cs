using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Interop;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Systemd;

/// <summary>One socket systemd passed, checked, and the address it is bound to.</summary>
/// <param name="Activated">The descriptor and its <c>FileDescriptorName=</c>.</param>
/// <param name="Socket">A view of the descriptor that does not own it: systemd keeps its own copy, so close it with close(2).</param>
/// <param name="Local">The address the socket is bound to.</param>
internal sealed record OpenedSocket(ActivatedSocket Activated, Socket Socket, EndPoint Local)
{
    public string Address => EndpointText.Format(Local) ?? Local.ToString() ?? "?";

    /// <summary>Closes the descriptor without shutdown(2), which would stop systemd's copy too.</summary>
    [SupportedOSPlatform("linux")]
    public void Release()
    {
        Socket.Dispose();
        Libc.Close(Activated.Fd);
    }
}

/// <summary>A socket from systemd that stands in for an endpoint Kestrel asked for.</summary>
/// <param name="Socket">The socket.</param>
/// <param name="Endpoint">The endpoint Kestrel asked for (text of <see cref="EndpointText"/>).</param>
/// <param name="MatchedBy">How: <c>name</c>, <c>address</c> or <c>descriptor</c>.</param>
internal sealed record AdoptedSocket(OpenedSocket Socket, string Endpoint, string MatchedBy);

/// <summary>How the sockets systemd passed are served.</summary>
/// <param name="Adopted">The sockets Kestrel asked for, in the order it asked.</param>
/// <param name="Unused">The sockets no endpoint asked for; the caller closes them.</param>
/// <param name="HostingUrls">The sockets' URLs when they stand in for the app's hosting URLs (the app names none), else empty.</param>
/// <param name="Urls">The addresses Kestrel reports.</param>
internal sealed record ActivationPlan(IReadOnlyList<AdoptedSocket> Adopted, IReadOnlyList<OpenedSocket> Unused,
    IReadOnlyList<string> HostingUrls, IReadOnlyList<string> Urls)
{
    /// <summary>Logs what was adopted and what not, and closes the sockets nothing asked for.</summary>
    [SupportedOSPlatform("linux")]
    public void LogAndReleaseUnused(ILogger logger)
    {
        foreach (var adopted in Adopted)
        {
            var socket = adopted.Socket;
            EndpointLog.SystemdSocketAdopted(logger, socket.Address, socket.Activated.Fd, socket.Activated.Name ?? "-",
                EndpointText.FindUrl(Urls, socket.Local), adopted.MatchedBy);
        }

        foreach (var unused in Unused)
        {
            EndpointLog.SystemdSocketUnused(logger, unused.Address, unused.Activated.Fd, unused.Activated.Name ?? "-");
            unused.Release();
        }

        if (HostingUrls.Count > 0)
        {
            EndpointLog.SystemdSocketsAsUrls(logger, string.Join(", ", HostingUrls));
        }
    }
}

/// <summary>Checks the sockets systemd passed and matches them to the endpoints the app's Kestrel asks for.</summary>
internal static class ActivatedSockets
{
    /// <summary>Validates a passed descriptor and wraps it, close-on-exec, in a <see cref="Socket"/> that does not own it.</summary>
    [SupportedOSPlatform("linux")]
    public static OpenedSocket Open(ActivatedSocket activated)
    {
        int fd = activated.Fd;
        string name = $"LISTEN_FDS: descriptor {fd}" + (activated.Name is null ? "" : $" ('{activated.Name}')");
        SocketDescriptors.CheckListeningStream(fd, name);
        Libc.SetCloseOnExec(fd, closeOnExec: true);
        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: false));
        return new OpenedSocket(activated, socket, socket.LocalEndPoint
            ?? throw new InvalidOperationException($"{name} is not bound to an address."));
    }

    /// <summary>
    /// Runs the app's Kestrel over systemd's sockets: each endpoint it asks for takes the socket named
    /// after its <c>Kestrel:Endpoints</c> entry, else the socket bound to its address. When the app names
    /// no URLs and no endpoints of its own, the sockets' URLs replace Kestrel's default. An endpoint
    /// with no socket stops the start with an error that says how to fix the units.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public static async Task<ActivationPlan> PlanAsync(KestrelEndpointProbe probe, SocketActivation activation, CancellationToken cancellationToken)
    {
        var opened = new List<OpenedSocket>();
        try
        {
            foreach (var activated in activation.Sockets)
            {
                opened.Add(Open(activated));
            }

            IReadOnlyList<string> hostingUrls = [];
            if (probe.GetHostingAddresses().Urls.Count == 0 && await probe.UsesHostingUrlsAsync(cancellationToken).ConfigureAwait(false))
            {
                hostingUrls = opened.Select(o => EndpointText.HttpUrl(o.Local)).OfType<string>().ToList();
            }

            var adopted = new List<AdoptedSocket>();
            var urls = await probe.RunAsync(settings => requested =>
            {
                string endpoint = EndpointText.Format(requested)!;
                var match = Match(requested, endpoint, opened.Except(adopted.Select(a => a.Socket)).ToList(), settings)
                    ?? throw new InvalidOperationException(
                        $"Kestrel asked for {endpoint} ({settings.Describe(endpoint)}), but systemd passed no socket for it " +
                        $"(it passed {string.Join(", ", opened.Select(o => o.Address + (o.Activated.Name is { } n ? $" named {n}" : "")))}). " +
                        "Under socket activation nothing binds sockets itself: listen on that address in the .socket unit, " +
                        "or name the socket after the Kestrel:Endpoints entry with FileDescriptorName=.");
                adopted.Add(match);
                return match.Socket.Local;
            }, hostingUrls, cancellationToken).ConfigureAwait(false);

            return new ActivationPlan(adopted, opened.Except(adopted.Select(a => a.Socket)).ToList(), hostingUrls, urls);
        }
        catch
        {
            foreach (var socket in opened)
            {
                socket.Release();
            }

            throw;
        }
    }

    /// <summary>
    /// The socket for <paramref name="requested"/> among <paramref name="available"/>: first one whose
    /// <c>FileDescriptorName=</c> names a <c>Kestrel:Endpoints</c> entry that asks for it, then the one
    /// given to <c>ListenHandle</c>, then one bound to the same address (any address matches any address
    /// of the same port). Null when none fits.
    /// </summary>
    internal static AdoptedSocket? Match(EndPoint requested, string endpoint, IReadOnlyList<OpenedSocket> available, EndpointSettings settings)
    {
        foreach (var socket in available)
        {
            if (socket.Activated.Name is { } name && settings.RequestsOfEndpoint(name).Contains(endpoint))
            {
                return new AdoptedSocket(socket, endpoint, $"name (Kestrel:Endpoints:{name})");
            }
        }

        if (requested is FileHandleEndPoint handle)
        {
            var passed = available.FirstOrDefault(s => (ulong)s.Activated.Fd == handle.FileHandle);
            return passed is null ? null : new AdoptedSocket(passed, endpoint, "descriptor");
        }

        // Sockets named after an endpoint are left for it where another one has the same address.
        var byAddress = available
            .OrderBy(s => s.Activated.Name is { } name && settings.RequestsOfEndpoint(name).Count > 0)
            .FirstOrDefault(s => SameAddress(requested, s.Local));
        return byAddress is null ? null : new AdoptedSocket(byAddress, endpoint, "address");
    }

    private static bool SameAddress(EndPoint requested, EndPoint local)
    {
        if (requested is UnixDomainSocketEndPoint || local is UnixDomainSocketEndPoint)
        {
            return requested is UnixDomainSocketEndPoint && local is UnixDomainSocketEndPoint &&
                string.Equals(requested.ToString(), local.ToString(), StringComparison.Ordinal);
        }

        if (requested is not IPEndPoint wanted || local is not IPEndPoint bound || wanted.Port == 0 || wanted.Port != bound.Port)
        {
            return false;
        }

        return wanted.Address.Equals(bound.Address) ||
            (IsAny(wanted.Address) && IsAny(bound.Address)) ||
            (bound.Address.IsIPv4MappedToIPv6 && bound.Address.MapToIPv4().Equals(wanted.Address));
    }

    private static bool IsAny(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
}

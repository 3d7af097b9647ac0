using System.Runtime.Versioning;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace GracefulHosting.Child;

/// <summary>
/// Warms a new generation up before it takes real connections: the warm-up requests
/// (<see cref="Warmup.WarmupRequest"/>) go through Kestrel, TLS on an HTTPS endpoint, and the
/// app's whole pipeline over an in-memory connection, so the first clients do not pay for just-in-time
/// compilation and first-use initialisation. Until it finishes, the inherited listeners accept nothing
/// and the child does not report ready; the old generation keeps serving meanwhile.
/// </summary>
internal sealed class ChildWarmup
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="enabled">False when there is nothing to warm up: no requests and no hooks.</param>
    public ChildWarmup(bool enabled)
    {
        if (!enabled)
        {
            _done.SetResult();
        }
    }

    /// <summary>Completes when the listeners may accept real connections.</summary>
    public Task Done => _done.Task;

    public void Finish() => _done.TrySetResult();

    /// <summary>
    /// The listeners to warm up: the first one Kestrel serves as http and the first it serves as
    /// https. Kestrel's own address list (<paramref name="serverAddresses"/>, as it reports it once
    /// started) gives each endpoint's scheme.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public static IReadOnlyList<(InheritedConnectionListener Listener, string Scheme)> ChooseTargets(
        IReadOnlyList<InheritedConnectionListener> listeners, IEnumerable<string> serverAddresses)
    {
        var addresses = serverAddresses.ToList();
        var targets = new List<(InheritedConnectionListener, string)>();
        foreach (var listener in listeners)
        {
            string? scheme = Endpoints.EndpointText.Match(addresses, listener.EndPoint)?.Address.Scheme.ToLowerInvariant();
            if (scheme is "http" or "https" && !targets.Exists(t => t.Item2 == scheme))
            {
                targets.Add((listener, scheme));
            }
        }

        return targets;
    }

    /// <summary>
    /// Sends <paramref name="requests"/> (one entry per request to send) through <paramref name="listener"/>
    /// in the protocol the endpoint speaks (<see cref="Warmup.WarmupClient"/>), over TLS when
    /// <paramref name="tls"/> is set, and returns the status codes seen, the protocol and the TLS handshake.
    /// <paramref name="protocols"/> is what the endpoint speaks to a plain connection, when the probe found it.
    /// Requests that check their status have the whole warm-up's budget (<paramref name="cancellationToken"/>);
    /// the others give up after a fixed time.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public async Task<WarmupResult> RunAsync(InheritedConnectionListener listener, bool tls, HttpProtocols? protocols,
        IReadOnlyList<Warmup.WarmupRequest> requests, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (requests.All(r => r.ExpectedClass is null))
        {
            timeout.CancelAfter(Timeout);
        }

        using var client = new Warmup.WarmupClient(_ => ValueTask.FromResult(Connect(listener)), tls);
        return await client.SendAsync(requests, tls, protocols, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>A new in-memory connection that <paramref name="listener"/> hands Kestrel next; the client's end as a stream.</summary>
    [SupportedOSPlatform("linux")]
    private static Stream Connect(InheritedConnectionListener listener) => InMemoryConnection.Open("warmup", listener.EndPoint, listener.Inject);
}

/// <summary>What the warm-up of one endpoint saw: the response statuses, the protocol that carried them and, over HTTPS, the TLS handshake.</summary>
internal sealed record WarmupResult(IReadOnlyList<int> Statuses, TlsHandshake? Handshake, string Protocol);

/// <summary>One TLS handshake of a warm-up connection.</summary>
internal sealed record TlsHandshake(double ElapsedMs, string Protocol, string CertificateSubject);

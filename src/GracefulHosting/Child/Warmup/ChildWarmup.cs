using System.Runtime.Versioning;
using GracefulHosting.Child.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace GracefulHosting.Child.Warmup;

// Requests through Kestrel, TLS and the app's pipeline over an in-memory connection, so that the first clients pay no first-use costs.
internal sealed class ChildWarmup
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // False with no requests and no hooks: the listeners then accept at once.
    public ChildWarmup(bool enabled)
    {
        if (!enabled)
        {
            _done.SetResult();
        }
    }

    // Until then the listeners accept nothing real, and the child does not report ready.
    public Task Done => _done.Task;

    public void Finish() => _done.TrySetResult();

    // Kestrel's address list, as it reports it once started, gives each endpoint's scheme.
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

    [SupportedOSPlatform("linux")]
    public async Task<WarmupResult> RunAsync(InheritedConnectionListener listener, bool tls, HttpProtocols? protocols,
        IReadOnlyList<Warmup.WarmupRequest> requests, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Requests that check their status get the whole budget; the default ones only help, so they give up sooner.
        if (requests.All(r => r.ExpectedClass is null))
        {
            timeout.CancelAfter(Timeout);
        }

        using var client = new Warmup.WarmupClient(_ => ValueTask.FromResult(Connect(listener)), tls);
        return await client.SendAsync(requests, tls, protocols, timeout.Token).ConfigureAwait(false);
    }

    [SupportedOSPlatform("linux")]
    private static Stream Connect(InheritedConnectionListener listener) => InMemoryConnection.Open("warmup", listener.EndPoint, listener.Inject);
}

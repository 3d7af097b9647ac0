using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

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
    /// Sends <paramref name="requests"/> (one entry per request to send) through <paramref name="listener"/>,
    /// over TLS when <paramref name="tls"/> is set, and returns the status codes seen and the TLS handshake.
    /// Requests that check their status have the whole warm-up's budget (<paramref name="cancellationToken"/>);
    /// the others give up after a fixed time.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public async Task<WarmupResult> RunAsync(InheritedConnectionListener listener, bool tls, IReadOnlyList<Warmup.WarmupRequest> requests,
        CancellationToken cancellationToken)
    {
        var toKestrel = new Pipe();
        var fromKestrel = new Pipe();
        var connection = new InMemoryConnection(
            "warmup-" + Guid.NewGuid().ToString("N")[..8],
            new DuplexPipe(toKestrel.Reader, fromKestrel.Writer),
            listener.EndPoint,
            new IPEndPoint(IPAddress.Loopback, 0));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (requests.All(r => r.ExpectedClass is null))
        {
            timeout.CancelAfter(Timeout);
        }

        listener.Inject(connection);
        Stream stream = new PipeStream(fromKestrel.Reader, toKestrel.Writer);
        TlsHandshake? handshake = null;
        try
        {
            if (tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                handshake = await HandshakeAsync(ssl, timeout.Token).ConfigureAwait(false);
            }

            await stream.WriteAsync(Encoding.UTF8.GetBytes(Warmup.WarmupRequest.ToHttp1(requests)), timeout.Token).ConfigureAwait(false);
            await stream.FlushAsync(timeout.Token).ConfigureAwait(false);

            string response = "";
            var buffer = new byte[4096];
            while (!HasAllResponseHeads(response, requests.Count) && LooksLikeHttp1(response))
            {
                int read = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                response += Encoding.ASCII.GetString(buffer, 0, read);
            }

            return new WarmupResult(ParseStatuses(response), handshake);
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A TLS handshake with this process's own Kestrel over the in-memory connection. The connection
    /// never leaves the process, so whatever certificate Kestrel presents is this app's own: it is
    /// accepted for this connection only, and nothing else trusts it.
    /// </summary>
    private static async Task<TlsHandshake> HandshakeAsync(SslStream ssl, CancellationToken cancellationToken)
    {
        long began = Stopwatch.GetTimestamp();
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [SslApplicationProtocol.Http11],
            RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        }, cancellationToken).ConfigureAwait(false);
        if (ssl.NegotiatedApplicationProtocol != SslApplicationProtocol.Http11 && ssl.NegotiatedApplicationProtocol != default)
        {
            throw new AuthenticationException($"the endpoint chose {ssl.NegotiatedApplicationProtocol} instead of HTTP/1.1");
        }

        string subject = ssl.RemoteCertificate?.Subject ?? "";
        return new TlsHandshake(Stopwatch.GetElapsedTime(began).TotalMilliseconds, ssl.SslProtocol.ToString(), subject);
    }

    /// <summary>False once the answer cannot be HTTP/1.x, such as an HTTP/2 GOAWAY frame.</summary>
    internal static bool LooksLikeHttp1(string response) =>
        response.Length < 5 ? "HTTP/".StartsWith(response, StringComparison.Ordinal) : response.StartsWith("HTTP/", StringComparison.Ordinal);

    /// <summary>True once the head of the last response has arrived; the body does not matter here.</summary>
    private static bool HasAllResponseHeads(string response, int requestCount)
    {
        int last = response.LastIndexOf("HTTP/1.1 ", StringComparison.Ordinal);
        return last >= 0 && ParseStatuses(response).Count >= requestCount && response.IndexOf("\r\n\r\n", last, StringComparison.Ordinal) >= 0;
    }

    internal static IReadOnlyList<int> ParseStatuses(string response)
    {
        var statuses = new List<int>();
        int index = 0;
        while ((index = response.IndexOf("HTTP/1.1 ", index, StringComparison.Ordinal)) >= 0)
        {
            if (index + 12 <= response.Length && int.TryParse(response.AsSpan(index + 9, 3), out int status))
            {
                statuses.Add(status);
            }

            index += 9;
        }

        return statuses;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

/// <summary>What one warm-up connection saw: the response statuses and, over HTTPS, the TLS handshake.</summary>
internal sealed record WarmupResult(IReadOnlyList<int> Statuses, TlsHandshake? Handshake);

/// <summary>One TLS handshake of a warm-up connection.</summary>
internal sealed record TlsHandshake(double ElapsedMs, string Protocol, string CertificateSubject);

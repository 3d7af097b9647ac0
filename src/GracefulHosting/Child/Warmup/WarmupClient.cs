using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace GracefulHosting.Child.Warmup;

// The framework's own HTTP client, so that each endpoint is warmed in the protocol a real client speaks to it.
internal sealed class WarmupClient : IDisposable
{
    private const string UserAgent = "GracefulHosting-warmup";
    private readonly HttpMessageInvoker _invoker;
    private readonly string _origin;
    private long _connectedAt;
    private TlsHandshake? _handshake;

    public WarmupClient(Func<CancellationToken, ValueTask<Stream>> connect, bool tls)
    {
        _origin = tls ? "https://localhost" : "http://localhost";
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                Volatile.Write(ref _connectedAt, Stopwatch.GetTimestamp());
                return await connect(cancellationToken).ConfigureAwait(false);
            },
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = 1,
            SslOptions = new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                // The connection never leaves the process, so the certificate Kestrel presents is this
                // app's own: it is accepted for this connection only, and nothing else trusts it.
                RemoteCertificateValidationCallback = (sender, certificate, _, _) =>
                {
                    RecordHandshake(sender as SslStream, certificate);
                    return certificate is not null;
                },
            },
        });
    }

    // Timed from the connection's start to the server's certificate.
    public TlsHandshake? Handshake => _handshake;

    // Over TLS, HTTP/2 or lower makes ALPN offer h2 and http/1.1; Kestrel serves a plain endpoint that allows both as HTTP/1.1.
    public static (Version Version, HttpVersionPolicy Policy) ChooseVersion(bool tls, HttpProtocols? protocols) =>
        tls ? (HttpVersion.Version20, HttpVersionPolicy.RequestVersionOrLower)
            : protocols is HttpProtocols.Http2 ? Http2PriorKnowledge
            : (HttpVersion.Version11, HttpVersionPolicy.RequestVersionExact);

    private static (Version, HttpVersionPolicy) Http2PriorKnowledge => (HttpVersion.Version20, HttpVersionPolicy.RequestVersionExact);

    public async Task<WarmupResult> SendAsync(IReadOnlyList<WarmupRequest> expanded, bool tls, HttpProtocols? protocols,
        CancellationToken cancellationToken)
    {
        var (version, policy) = ChooseVersion(tls, protocols);
        var result = await SendAllAsync(expanded, version, policy, cancellationToken).ConfigureAwait(false);
        // A plain endpoint the probe could not tell shows itself HTTP/2-only only by rejecting HTTP/1.1: send again over HTTP/2.
        if (!tls && protocols is null && result.RejectedAsHttp1)
        {
            (version, policy) = Http2PriorKnowledge;
            result = await SendAllAsync(expanded, version, policy, cancellationToken).ConfigureAwait(false);
        }

        return new WarmupResult(result.Statuses, _handshake, result.Protocol);
    }

    private async Task<(List<int> Statuses, string Protocol, bool RejectedAsHttp1)> SendAllAsync(IReadOnlyList<WarmupRequest> expanded,
        Version version, HttpVersionPolicy policy, CancellationToken cancellationToken)
    {
        var statuses = new List<int>(expanded.Count);
        string protocol = "";
        foreach (var request in expanded)
        {
            using var message = ToMessage(request, version, policy);
            HttpResponseMessage response;
            try
            {
                response = await _invoker.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (statuses.Count > 0)
            {
                // The endpoint closed the connection after an answer; the check names what is missing.
                break;
            }

            using (response)
            {
                await response.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                statuses.Add((int)response.StatusCode);
                protocol = response.Version == HttpVersion.Version20 ? "HTTP/2" : "HTTP/1.1";
                if (statuses.Count == 1 && IsHttp1Rejected(response))
                {
                    return (statuses, protocol, true);
                }
            }
        }

        return (statuses, protocol, false);
    }

    // How Kestrel answers HTTP/1.x on an HTTP/2-only endpoint: 400, and it closes the connection.
    internal static bool IsHttp1Rejected(HttpResponseMessage response) =>
        response.Version == HttpVersion.Version11 && response.StatusCode == HttpStatusCode.BadRequest && response.Headers.ConnectionClose == true;

    internal HttpRequestMessage ToMessage(WarmupRequest request, Version version, HttpVersionPolicy policy)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_origin + request.Target))
        {
            Version = version,
            VersionPolicy = policy,
        };
        // An empty body (Content-Length: 0) for a method that may carry one.
        if (request.Method is not ("GET" or "HEAD" or "OPTIONS" or "DELETE"))
        {
            message.Content = new ByteArrayContent([]);
        }

        foreach (var (name, value) in request.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.Host = value;
            }
            else if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                // A header the request cannot take (Content-Type) goes with a body.
                message.Content ??= new ByteArrayContent([]);
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (!message.Headers.Contains("User-Agent"))
        {
            message.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        }

        return message;
    }

    private void RecordHandshake(SslStream? ssl, X509Certificate? certificate)
    {
        if (_handshake is null && ssl is not null)
        {
            _handshake = new TlsHandshake(Stopwatch.GetElapsedTime(Volatile.Read(ref _connectedAt)).TotalMilliseconds,
                ssl.SslProtocol.ToString(), certificate?.Subject ?? "");
        }
    }

    public void Dispose() => _invoker.Dispose();
}

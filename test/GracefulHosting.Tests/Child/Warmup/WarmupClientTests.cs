using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using GracefulHosting.Child.Warmup;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GracefulHosting.Tests.Child.Warmup;

/// <summary>The warm-up client against a real Kestrel on a loopback port, each endpoint with other protocols.</summary>
public sealed class WarmupClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(false, null, "1.1", HttpVersionPolicy.RequestVersionExact)]
    [InlineData(false, HttpProtocols.Http1, "1.1", HttpVersionPolicy.RequestVersionExact)]
    [InlineData(false, HttpProtocols.Http1AndHttp2, "1.1", HttpVersionPolicy.RequestVersionExact)]
    [InlineData(false, HttpProtocols.Http2, "2.0", HttpVersionPolicy.RequestVersionExact)]
    [InlineData(true, null, "2.0", HttpVersionPolicy.RequestVersionOrLower)]
    [InlineData(true, HttpProtocols.Http1, "2.0", HttpVersionPolicy.RequestVersionOrLower)]
    public void ChooseVersion_EndpointKind_PriorKnowledgeOnlyForPlainHttp2Only(bool tls, HttpProtocols? protocols, string version, HttpVersionPolicy policy)
    {
        Assert.Equal((Version.Parse(version), policy), WarmupClient.ChooseVersion(tls, protocols));
    }

    [Fact]
    public async Task SendAsync_Http2OnlyEndpointKnown_SpeaksHttp2AndKeepsMethodTargetAndHeaders()
    {
        await using var server = await TestServer.StartAsync(HttpProtocols.Http2);
        using var client = new WarmupClient(server.ConnectAsync, tls: false);
        WarmupRequest[] requests =
        [
            new("k0", "GET", "/status/204?x=1", [new("X-Warmup", "yes")], 2, 1),
            new("k1", "POST", "/status/201", [new("Host", "example.test"), new("Content-Type", "application/grpc")], 2, 1),
        ];

        var result = await client.SendAsync(requests, tls: false, HttpProtocols.Http2, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal([204, 201], result.Statuses);
        Assert.Equal("HTTP/2", result.Protocol);
        Assert.Null(result.Handshake);
        Assert.Equal(1, server.Connections);
        Assert.Equal(
        [
            "HTTP/2 GET /status/204?x=1 host=localhost ua=GracefulHosting-warmup x-warmup=yes type= length=",
            "HTTP/2 POST /status/201 host=example.test ua=GracefulHosting-warmup x-warmup= type=application/grpc length=0",
        ], server.Seen);
    }

    [Fact]
    public async Task SendAsync_Http2OnlyEndpointNotKnown_SendsTheRequestsAgainOverHttp2()
    {
        await using var server = await TestServer.StartAsync(HttpProtocols.Http2);
        using var client = new WarmupClient(server.ConnectAsync, tls: false);

        var result = await client.SendAsync([new("k0", "GET", "/status/200", [], null, 1), new("k0", "GET", "/status/200", [], null, 1)],
            tls: false, protocols: null, CancellationToken.None).WaitAsync(Timeout);

        // Kestrel rejects the first HTTP/1.1 request before the app sees it; the app sees only HTTP/2.
        Assert.Equal([200, 200], result.Statuses);
        Assert.Equal("HTTP/2", result.Protocol);
        Assert.Equal(2, server.Connections);
        Assert.All(server.Seen, line => Assert.StartsWith("HTTP/2 GET /status/200", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SendAsync_Http1Endpoint_OneKeptAliveConnection()
    {
        await using var server = await TestServer.StartAsync(HttpProtocols.Http1);
        using var client = new WarmupClient(server.ConnectAsync, tls: false);

        var result = await client.SendAsync(WarmupRequest.Expand([new("k0", "GET", "/status/404", [], 4, 3)]), tls: false, protocols: null,
            CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal([404, 404, 404], result.Statuses);
        Assert.Equal("HTTP/1.1", result.Protocol);
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task SendAsync_TlsEndpointWithBothProtocols_AlpnChoosesHttp2AndHandshakeIsRecorded()
    {
        await using var server = await TestServer.StartAsync(HttpProtocols.Http1AndHttp2, tls: true);
        using var client = new WarmupClient(server.ConnectAsync, tls: true);

        var result = await client.SendAsync([new("k0", "GET", "/status/200", [], 2, 1)], tls: true, protocols: null, CancellationToken.None)
            .WaitAsync(Timeout);

        Assert.Equal([200], result.Statuses);
        Assert.Equal("HTTP/2", result.Protocol);
        Assert.NotNull(result.Handshake);
        Assert.Equal("CN=localhost", result.Handshake.CertificateSubject);
        Assert.StartsWith("Tls1", result.Handshake.Protocol, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_NoResponseAtAll_Throws()
    {
        using var client = new WarmupClient(_ => ValueTask.FromResult<Stream>(new MemoryStream()), tls: false);

        await Assert.ThrowsAsync<HttpRequestException>(() =>
            client.SendAsync([new("k0", "GET", "/", [], 2, 1)], tls: false, protocols: null, CancellationToken.None).WaitAsync(Timeout));
    }

    /// <summary>A Kestrel on a loopback port that answers <c>/status/{code}</c> and records what each request looked like.</summary>
    private sealed class TestServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly IPEndPoint _endpoint;
        private int _connections;

        private TestServer(WebApplication app, IPEndPoint endpoint)
        {
            _app = app;
            _endpoint = endpoint;
        }

        public ConcurrentQueue<string> Seen { get; } = new();

        public int Connections => Volatile.Read(ref _connections);

        public static async Task<TestServer> StartAsync(HttpProtocols protocols, bool tls = false)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = protocols;
                if (tls)
                {
                    listen.UseHttps(TestCertificates.SelfSignedLocalhost());
                }
            }));
            var app = builder.Build();
            TestServer? server = null;
            app.Use((context, next) =>
            {
                var request = context.Request;
                server!.Seen.Enqueue($"{request.Protocol} {request.Method} {request.Path}{request.QueryString} host={request.Host} " +
                    $"ua={request.Headers.UserAgent} x-warmup={request.Headers["X-Warmup"]} type={request.ContentType} length={request.ContentLength}");
                return next(context);
            });
            app.MapMethods("/status/{code:int}", ["GET", "POST"], (int code) => Results.StatusCode(code));
            await app.StartAsync();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
            server = new TestServer(app, new IPEndPoint(IPAddress.Loopback, address.Port));
            return server;
        }

        public async ValueTask<Stream> ConnectAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _connections);
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(_endpoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

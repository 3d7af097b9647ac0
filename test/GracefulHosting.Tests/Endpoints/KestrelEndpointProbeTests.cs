using System.Net;
using GracefulHosting.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulHosting.Tests.Endpoints;

/// <summary>The probe asks the app's real Kestrel: these apps are built in-process and never started.</summary>
public sealed class KestrelEndpointProbeTests : IAsyncLifetime
{
    private readonly ProbeApps _apps = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _apps.DisposeAsync().AsTask();

    [Fact]
    public async Task UsesHostingUrlsAsync_OnlyWhenNeitherCodeNorConfigurationNameEndpoints()
    {
        Assert.True(await Probe().UsesHostingUrlsAsync(CancellationToken.None));
        Assert.False(await Probe(kestrel: k => k.ListenAnyIP(7014)).UsesHostingUrlsAsync(CancellationToken.None));
        Assert.False(await Probe(["--Kestrel:Endpoints:Web:Url=http://127.0.0.1:7015"]).UsesHostingUrlsAsync(CancellationToken.None));
        // As the web host does, preferHostingUrls from configuration comes with configured URLs only; the app can set it on its server.
        Assert.False(await Probe(["--preferHostingUrls=true"], kestrel: k => k.ListenAnyIP(7016)).UsesHostingUrlsAsync(CancellationToken.None));
        Assert.True(await Probe(kestrel: k => k.ListenAnyIP(7016), configure: app =>
            app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.PreferHostingUrls = true)
            .UsesHostingUrlsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task UsesHostingUrlsAsync_UrlsOnCommandLineOnly_True()
    {
        Assert.True(await Probe(["--urls=http://127.0.0.1:7017"]).UsesHostingUrlsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task UsesHostingUrlsAsync_UrlKestrelRejects_FalseInsteadOfThrowing()
    {
        Assert.False(await Probe(["--Kestrel:Endpoints:Web:Url=127.0.0.1:7018"]).UsesHostingUrlsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task CheckAsync_PlainEndpoints_FindsWhatEachSpeaksWhereverItsProtocolsAreSet()
    {
        // The probe binds nothing, so the socket is never created.
        const string socket = "/nonexistent/gracefulhosting-test/h2.sock";
        var probe = Probe(
            ["--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:7104", "--Kestrel:Endpoints:Grpc:Protocols=Http2", "--Kestrel:Endpoints:Web:Url=http://127.0.0.1:7105"],
            kestrel: k =>
            {
                k.Listen(IPAddress.Loopback, 7101, listen => listen.Protocols = HttpProtocols.Http2);
                k.Listen(IPAddress.Loopback, 7102, listen => listen.Protocols = HttpProtocols.Http1AndHttp2);
                k.Listen(IPAddress.Loopback, 7103, listen => listen.Protocols = HttpProtocols.Http1);
                k.ListenUnixSocket(socket, listen => listen.Protocols = HttpProtocols.Http2);
            });

        var found = await probe.CheckAsync(CancellationToken.None);

        Assert.Equal(new Dictionary<(string, int), HttpProtocols>
        {
            [("127.0.0.1:7101", 0)] = HttpProtocols.Http2,
            [("127.0.0.1:7102", 0)] = HttpProtocols.Http1,
            [("127.0.0.1:7103", 0)] = HttpProtocols.Http1,
            [("unix:" + socket, 0)] = HttpProtocols.Http2,
            [("127.0.0.1:7104", 0)] = HttpProtocols.Http2,
            [("127.0.0.1:7105", 0)] = HttpProtocols.Http1,
        }, found);
    }

    [Fact]
    public async Task CheckAsync_EndpointDefaultsInCodeForHostingUrls_Http2()
    {
        var probe = Probe(["--urls=http://127.0.0.1:7106"], kestrel: k => k.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2));

        Assert.Equal(HttpProtocols.Http2, Assert.Single(await probe.CheckAsync(CancellationToken.None), e => e.Key == ("127.0.0.1:7106", 0)).Value);
    }

    [Fact]
    public async Task CheckAsync_EndpointDefaultsInConfiguration_Http2ButWhereAnEntryNamesItsOwn()
    {
        var probe = Probe(["--Kestrel:EndpointDefaults:Protocols=Http2", "--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:7109",
            "--Kestrel:Endpoints:Web:Url=http://127.0.0.1:7110", "--Kestrel:Endpoints:Web:Protocols=Http1AndHttp2"]);

        var found = await probe.CheckAsync(CancellationToken.None);

        Assert.Equal(HttpProtocols.Http2, found[("127.0.0.1:7109", 0)]);
        Assert.Equal(HttpProtocols.Http1, found[("127.0.0.1:7110", 0)]);
    }

    [Fact]
    public async Task CheckAsync_HttpsEndpoint_NeverAskedAndLeftOut()
    {
        int connections = 0;
        var probe = Probe(kestrel: k =>
        {
            k.Listen(IPAddress.Loopback, 7107, listen =>
            {
                listen.Use(next => connection =>
                {
                    Interlocked.Increment(ref connections);
                    return next(connection);
                });
                listen.UseHttps(TestCertificates.SelfSignedLocalhost());
            });
            k.Listen(IPAddress.Loopback, 7108, listen => listen.Protocols = HttpProtocols.Http2);
        });

        var found = await probe.CheckAsync(CancellationToken.None);

        Assert.Equal([("127.0.0.1:7108", 0)], found.Keys);
        Assert.Equal(0, connections);
    }

    [Fact]
    public async Task CheckAsync_SameEndpointTwiceWithPortZero_EachOccurrenceFound()
    {
        var probe = Probe(kestrel: k =>
        {
            k.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });

        var found = await probe.CheckAsync(CancellationToken.None);

        Assert.Equal(HttpProtocols.Http1, found[("127.0.0.1:0", 0)]);
        Assert.Equal(HttpProtocols.Http2, found[("127.0.0.1:0", 1)]);
    }

    [Fact]
    public void GetHostingAddresses_AppUrlsSet_TheyWinOverConfiguredUrls()
    {
        var configured = Probe(["--urls=http://127.0.0.1:7001"]);
        var set = Probe(["--urls=http://127.0.0.1:7001"], configure: app => app.Urls.Add("http://127.0.0.1:7003"));

        Assert.Equal(["http://127.0.0.1:7001"], configured.GetHostingAddresses().Urls);
        Assert.Equal("urls", configured.GetHostingAddresses().Source);
        Assert.Equal(["http://127.0.0.1:7003"], set.GetHostingAddresses().Urls);
        Assert.Equal("app.Urls", set.GetHostingAddresses().Source);
    }

    private KestrelEndpointProbe Probe(string[]? args = null, Action<KestrelServerOptions>? kestrel = null, Action<WebApplication>? configure = null) =>
        _apps.Create(args, kestrel, configure).Probe;
}

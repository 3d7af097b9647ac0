using System.Net;
using GracefulHosting.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulHosting.Tests.Endpoints;

/// <summary>The probe runs the app's real Kestrel: these apps are built in-process and never started.</summary>
public sealed class KestrelEndpointProbeTests : IAsyncLifetime
{
    private readonly ProbeApps _apps = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _apps.DisposeAsync().AsTask();

    [Fact]
    public async Task RunAsync_ListenInCode_AsksForThatAddress()
    {
        var probe = Probe(kestrel: k => k.Listen(IPAddress.Loopback, 8080));

        Assert.Equal(["127.0.0.1:8080"], await RequestsAsync(probe));
    }

    [Fact]
    public async Task RunAsync_ListenLocalhostAndAnyIPAndUnixInCode_KestrelsOwnTargets()
    {
        var probe = Probe(kestrel: k =>
        {
            k.ListenLocalhost(5001);
            k.ListenAnyIP(5002);
            k.ListenUnixSocket("/run/app.sock");
        });

        Assert.Equal(["127.0.0.1:5001", "[::1]:5001", "[::]:5002", "unix:/run/app.sock"], await RequestsAsync(probe));
    }

    [Fact]
    public async Task RunAsync_UrlsOnCommandLine_AsksForThem()
    {
        var probe = Probe(["--urls=http://127.0.0.1:7001;http://*:7002"]);

        Assert.Equal(["127.0.0.1:7001", "[::]:7002"], await RequestsAsync(probe));
    }

    [Fact]
    public async Task RunAsync_AppUrlsSet_TheyWinOverConfiguredUrls()
    {
        var probe = Probe(["--urls=http://127.0.0.1:7001"], configure: app => app.Urls.Add("http://127.0.0.1:7003"));

        Assert.Equal(["127.0.0.1:7003"], await RequestsAsync(probe));
    }

    [Fact]
    public async Task RunAsync_HttpPorts_AnyAddress()
    {
        var probe = Probe(["--http_ports=7004"]);

        Assert.Equal(["[::]:7004"], await RequestsAsync(probe));
    }

    [Fact]
    public async Task RunAsync_CodeEndpointAndUrls_CodeWinsUnlessPreferHostingUrls()
    {
        var plain = Probe(["--urls=http://127.0.0.1:7005"], kestrel: k => k.Listen(IPAddress.Loopback, 7006));
        var preferring = Probe(["--urls=http://127.0.0.1:7005", "--preferHostingUrls=true"], kestrel: k => k.Listen(IPAddress.Loopback, 7006));

        Assert.Equal(["127.0.0.1:7006"], await RequestsAsync(plain));
        Assert.Equal(["127.0.0.1:7005"], await RequestsAsync(preferring));
    }

    [Fact]
    public async Task RunAsync_ConfigEndpointBesideCodeEndpoint_BothAsked()
    {
        var probe = Probe(["--Kestrel:Endpoints:Web:Url=http://127.0.0.1:7007"], kestrel: k => k.Listen(IPAddress.Loopback, 7008));

        Assert.Equal(["127.0.0.1:7008", "127.0.0.1:7007"], await RequestsAsync(probe));
    }

    [Fact]
    public async Task RunAsync_NothingNamed_KestrelsDefault()
    {
        Assert.Equal(["127.0.0.1:5000", "[::1]:5000"], await RequestsAsync(Probe()));
    }

    [Fact]
    public async Task RunAsync_FallbackUrls_UsedOnlyWhenTheAppNamesNone()
    {
        var none = Probe();
        var named = Probe(["--urls=http://127.0.0.1:7009"]);

        Assert.Equal(["127.0.0.1:7010"], await RequestsAsync(none, ["http://127.0.0.1:7010"]));
        Assert.Equal(["127.0.0.1:7009"], await RequestsAsync(named, ["http://127.0.0.1:7010"]));
    }

    [Fact]
    public async Task RunAsync_PortZero_ReportsTheAddressTheTransportBound()
    {
        var probe = Probe(kestrel: k => k.Listen(IPAddress.Loopback, 0));

        var urls = await probe.RunAsync(_ => requested => new IPEndPoint(IPAddress.Loopback, 45678), [], CancellationToken.None);

        Assert.Equal(["http://127.0.0.1:45678"], urls);
    }

    [Fact]
    public async Task RunAsync_BindFails_ThrowsItsMessage()
    {
        var probe = Probe(kestrel: k => k.Listen(IPAddress.Loopback, 7011));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            probe.RunAsync(_ => _ => throw new InvalidOperationException("no such luck"), [], CancellationToken.None));

        Assert.Equal("no such luck", e.Message);
    }

    [Fact]
    public async Task RunAsync_UrlKestrelRejects_NamesTheSetting()
    {
        var probe = Probe(["--Kestrel:Endpoints:Web:Url=127.0.0.1:7012"]);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => RequestsAsync(probe));

        Assert.StartsWith("Kestrel cannot start with the app's endpoints (Kestrel:Endpoints:Web:Url = '127.0.0.1:7012'): ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_RunTwice_EachRunFreshAndNothingServed()
    {
        var probe = Probe(kestrel: k => k.Listen(IPAddress.Loopback, 7013));

        Assert.Equal(["127.0.0.1:7013"], await RequestsAsync(probe));
        Assert.Equal(["127.0.0.1:7013"], await RequestsAsync(probe));
    }

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

    private KestrelEndpointProbe Probe(string[]? args = null, Action<KestrelServerOptions>? kestrel = null, Action<WebApplication>? configure = null) =>
        _apps.Create(args, kestrel, configure).Probe;

    private static async Task<List<string>> RequestsAsync(KestrelEndpointProbe probe, IReadOnlyList<string>? fallbackUrls = null)
    {
        var requests = new List<string>();
        await probe.RunAsync(_ => requested =>
        {
            requests.Add(EndpointText.Format(requested)!);
            return requested;
        }, fallbackUrls ?? [], CancellationToken.None);
        return requests;
    }
}

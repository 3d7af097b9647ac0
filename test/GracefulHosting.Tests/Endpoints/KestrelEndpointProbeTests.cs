using GracefulHosting.Endpoints;
using Microsoft.AspNetCore.Builder;
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

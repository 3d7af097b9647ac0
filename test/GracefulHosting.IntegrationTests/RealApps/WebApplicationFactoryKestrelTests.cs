extern alias AutofacApp;

using GracefulHosting.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using AppProgram = AutofacApp::Program;

namespace GracefulHosting.IntegrationTests.RealApps;

/// <summary>
/// WebApplicationFactory with UseKestrel() (.NET 10) runs the app on a real Kestrel inside the test
/// process: the library must stay out of the way, as it does under TestServer.
/// </summary>
public sealed class WebApplicationFactoryKestrelTests
{
    [Fact]
    public async Task Get_UnderWebApplicationFactoryWithKestrel_DisabledAndServedByTestProcess()
    {
        using var factory = new WebApplicationFactory<AppProgram>();
        factory.UseKestrel(0);
        factory.StartServer();
        using var client = factory.CreateClient();

        string body = await client.GetStringAsync("/");

        Assert.Equal(GracefulRestartRole.Disabled, factory.Services.GetRequiredService<IGracefulRestartContext>().Role);
        Assert.Equal(Environment.ProcessId, Http.ParsePid(body));
        Assert.StartsWith("Hello from AutofacServiceProvider", body, StringComparison.Ordinal);
        var server = factory.Services.GetRequiredService<IServer>();
        Assert.Equal("Microsoft.AspNetCore.Server.Kestrel.Core", server.GetType().Assembly.GetName().Name);
        Assert.Contains(server.Features.Get<IServerAddressesFeature>()!.Addresses, a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
        var hosted = factory.Services.GetServices<IHostedService>().Select(s => s.GetType().Name).ToList();
        Assert.Contains("Worker", hosted);
        Assert.DoesNotContain(hosted, n => n.Contains("Master", StringComparison.Ordinal) || n.Contains("Child", StringComparison.Ordinal));
    }
}

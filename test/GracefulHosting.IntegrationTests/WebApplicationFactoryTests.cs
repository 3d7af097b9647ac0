using GracefulHosting.IntegrationTests.Infrastructure;
using HelloGraceful;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulHosting.IntegrationTests;

/// <summary>Under the test host the library is inert: the app runs in the test process, with no master.</summary>
public sealed class WebApplicationFactoryTests : IClassFixture<WebApplicationFactory<Program>>
{
    private readonly WebApplicationFactory<Program> _factory;

    public WebApplicationFactoryTests(WebApplicationFactory<Program> factory) => _factory = factory;

    [Fact]
    public async Task Get_UnderTestServer_AppServesInTestProcessAndNoMasterRuns()
    {
        using var client = _factory.CreateClient();

        string body = await client.GetStringAsync("/");

        Assert.Equal(Environment.ProcessId, Http.ParsePid(body));
        Assert.IsType<TestServer>(_factory.Services.GetRequiredService<IServer>());
        var hostedServices = _factory.Services.GetServices<IHostedService>().Select(s => s.GetType()).ToList();
        Assert.Contains(typeof(PidRecorderService), hostedServices);
        Assert.DoesNotContain(hostedServices, t => t.Namespace?.StartsWith("GracefulHosting", StringComparison.Ordinal) == true);
    }
}

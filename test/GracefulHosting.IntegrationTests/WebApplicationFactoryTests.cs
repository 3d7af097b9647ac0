using GracefulHosting.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace GracefulHosting.IntegrationTests;

/// <summary>Under the test host the library is inert: the app runs in the test process, with no master.</summary>
public sealed class WebApplicationFactoryTests : IClassFixture<WebApplicationFactory<Program>>
{
    private readonly WebApplicationFactory<Program> _factory;

    public WebApplicationFactoryTests(WebApplicationFactory<Program> factory) => _factory = factory;

    [Fact]
    public async Task Get_UnderTestServer_ServedByTestProcessWithoutChildren()
    {
        var before = Native.Descendants(Environment.ProcessId);
        using var client = _factory.CreateClient();

        string body = await client.GetStringAsync("/");

        Assert.Equal(Environment.ProcessId, Http.ParsePid(body));
        var spawned = Native.Descendants(Environment.ProcessId).Except(before)
            .Where(pid => File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("HelloGraceful", StringComparison.Ordinal));
        Assert.Empty(spawned);
    }
}

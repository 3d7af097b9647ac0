using GracefulHosting.Child.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Tests.Child.Sockets;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EndpointReloadGuardTests : IAsyncLifetime
{
    private readonly WebApplication _app = WebApplication.CreateSlimBuilder().Build();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _app.DisposeAsync().AsTask();

    /// <param name="expected">How many times the endpoint change is logged.</param>
    /// <param name="changes">Each "key=value" is set and followed by a reload.</param>
    [Theory]
    [InlineData(0, "Greeting=changed")]
    [InlineData(1, "Kestrel:Endpoints:Http:Url=http://127.0.0.1:9090")]
    [InlineData(1, "Kestrel:Endpoints:Http:Url=http://127.0.0.1:9090", "Kestrel:Endpoints:Http:Url=http://127.0.0.1:8080")]
    [InlineData(1, "Kestrel:Endpoints:Http:Url=http://127.0.0.1:8080", "Kestrel:Endpoints:Second:Url=http://127.0.0.1:8081")]
    public void Freeze_ConfigurationReloads_LogsOnlyWhenKestrelSectionDiffersFromWhatWasBound(int expected, params string[] changes)
    {
        var (configuration, logger, guard) = CreateGuard();
        using (guard)
        {
            guard.Freeze();
            foreach (string change in changes)
            {
                int equals = change.IndexOf('=', StringComparison.Ordinal);
                configuration[change[..equals]] = change[(equals + 1)..];
                configuration.Reload();
            }

            Assert.Equal(expected, logger.Collector.GetSnapshot().Count(r => r.Id.Name == "EndpointConfigurationChanged"));
        }
    }

    private (IConfigurationRoot Configuration, FakeLogger<EndpointReloadGuard> Logger, EndpointReloadGuard Guard) CreateGuard()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Kestrel:Endpoints:Http:Url"] = "http://127.0.0.1:8080",
                ["Greeting"] = "hello",
            })
            .Build();
        var kestrel = new KestrelServerOptions { ApplicationServices = _app.Services };
        kestrel.Configure(configuration.GetSection("Kestrel"), reloadOnChange: false);
        var logger = new FakeLogger<EndpointReloadGuard>();
        return (configuration, logger, new EndpointReloadGuard(Options.Create(kestrel), configuration, logger));
    }
}

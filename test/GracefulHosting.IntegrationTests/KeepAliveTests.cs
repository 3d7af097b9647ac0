using System.Net;
using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests;

/// <summary>The keep-alive race: restarts must not lose requests sent on reused connections.</summary>
public sealed class KeepAliveTests
{
    [Fact]
    public async Task Sighup_FiveRestartsUnderTenKeepAliveClients_NoRequestFails()
    {
        await using var master = MasterProcess.Start();
        var address = await master.WaitForAddressAsync();
        await master.WaitForReadyAsync(1);
        var server = new IPEndPoint(IPAddress.Parse(address.Host), address.Port);

        await using var load = RequestLoad.KeepAlive(server, clients: 10);

        for (int generation = 2; generation <= 6; generation++)
        {
            await Task.Delay(400);
            master.Signal(Native.SIGHUP);
            await master.WaitForRestartAsync(generation);
            await master.WaitForLineAsync(@"Child generation \d+ \(pid \d+\) exited", skip: generation - 2);
        }

        await Task.Delay(400);
        int[] connections = await load.StopAsync();

        Assert.Empty(load.Failures);
        Assert.True(load.Succeeded > 500, $"only {load.Succeeded} requests succeeded");
        Assert.Equal(6, load.Pids.Count);
        // Clients left each old generation on its Connection: close, not on errors.
        Assert.True(connections.All(c => c >= 2), "each client should have moved to a new connection");
    }

    [Fact]
    public async Task Sighup_ThreeRestartsUnderHttp2Clients_NoRequestFails()
    {
        // HTTP/2 over cleartext (prior knowledge). A draining generation sends GOAWAY; a conforming
        // client moves to a new connection and re-sends streams the server refused as unprocessed.
        await using var master = MasterProcess.Start(arguments: ["--Kestrel:Endpoints:Http:Protocols=Http2"]);
        var address = await master.WaitForAddressAsync();
        await master.WaitForReadyAsync(1);
        using var client = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
        {
            BaseAddress = address,
            DefaultRequestVersion = System.Net.HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };

        await using var load = new RequestLoad(8, () => async () =>
        {
            using var response = await client.GetAsync("/");
            string body = await response.Content.ReadAsStringAsync();
            return response.IsSuccessStatusCode && response.Version == System.Net.HttpVersion.Version20
                ? (true, body)
                : (false, $"{(int)response.StatusCode} over HTTP/{response.Version}");
        });

        for (int generation = 2; generation <= 4; generation++)
        {
            await Task.Delay(400);
            master.Signal(Native.SIGHUP);
            await master.WaitForRestartAsync(generation);
        }

        await Task.Delay(400);
        await load.StopAsync();

        Assert.Empty(load.Failures);
        Assert.True(load.Succeeded > 200, $"only {load.Succeeded} requests succeeded");
        Assert.Equal(4, load.Pids.Count);
    }
}

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

        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        int succeeded = 0;
        var pids = new HashSet<int>();
        var clients = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            using var client = new KeepAliveClient(server);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var (status, body, _) = await client.GetAsync("/", CancellationToken.None);
                    lock (failures)
                    {
                        if (status == 200)
                        {
                            succeeded++;
                            pids.Add(Http.ParsePid(body));
                        }
                        else
                        {
                            failures.Add($"status {status}");
                        }
                    }
                }
                catch (Exception e)
                {
                    lock (failures)
                    {
                        failures.Add(e.GetType().Name + ": " + e.Message);
                    }
                }
            }

            return client.Connections;
        })).ToList();

        for (int generation = 2; generation <= 6; generation++)
        {
            await Task.Delay(400);
            master.Signal(Native.SIGHUP);
            await master.WaitForRestartAsync(generation);
            await master.WaitForLineAsync(@"Child generation \d+ \(pid \d+\) exited", skip: generation - 2);
        }

        await Task.Delay(400);
        await stop.CancelAsync();
        int[] connections = await Task.WhenAll(clients);

        Assert.Empty(failures);
        Assert.True(succeeded > 500, $"only {succeeded} requests succeeded");
        Assert.Equal(6, pids.Count);
        // Clients left each old generation on its Connection: close, not on errors.
        Assert.True(connections.All(c => c >= 2), "each client should have moved to a new connection");
    }
}

using System.Net;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>The keep-alive race: restarts must not lose requests sent on reused connections.</summary>
public sealed class KeepAliveTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sighup_FiveRestartsUnderTenKeepAliveClients_NoRequestFails()
    {
        await using var master = MasterProcess.Start(output: output);
        var address = await master.WaitForAddressAsync();
        int firstPid = await master.WaitForReadyAsync(1);
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

        // Each generation serves the clients before the next restart, and the last one after its predecessor exited.
        await WaitUntilServedByAsync(pids, firstPid, failures);
        for (int generation = 2; generation <= 6; generation++)
        {
            master.Signal(Native.SIGHUP);
            int pid = await master.WaitForRestartAsync(generation);
            await master.WaitForLineAsync(@"Child generation \d+ \(pid \d+\) exited", skip: generation - 2);
            await WaitUntilServedByAsync(pids, pid, failures);
        }

        await stop.CancelAsync();
        int[] connections = await Task.WhenAll(clients);

        Assert.Empty(failures);
        Assert.True(succeeded > 500, $"only {succeeded} requests succeeded");
        Assert.Equal(6, pids.Count);
        // Clients left each old generation on its Connection: close, not on errors.
        Assert.True(connections.All(c => c >= 2), "each client should have moved to a new connection");
    }

    [Fact]
    public async Task Sighup_ThreeRestartsUnderHttp2Clients_NoRequestFails()
    {
        // HTTP/2 over cleartext (prior knowledge). A draining generation sends GOAWAY; a conforming
        // client moves to a new connection and re-sends streams the server refused as unprocessed.
        await using var master = MasterProcess.Start(arguments: ["--Kestrel:Endpoints:Http:Protocols=Http2"], output: output);
        var address = await master.WaitForAddressAsync();
        int firstPid = await master.WaitForReadyAsync(1);
        using var client = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
        {
            BaseAddress = address,
            DefaultRequestVersion = System.Net.HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };

        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var pids = new HashSet<int>();
        int succeeded = 0;
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await client.GetAsync("/");
                    string body = await response.Content.ReadAsStringAsync();
                    lock (failures)
                    {
                        if (response.IsSuccessStatusCode && response.Version == System.Net.HttpVersion.Version20)
                        {
                            succeeded++;
                            pids.Add(Http.ParsePid(body));
                        }
                        else
                        {
                            failures.Add($"{(int)response.StatusCode} over HTTP/{response.Version}");
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
        })).ToList();

        await WaitUntilServedByAsync(pids, firstPid, failures);
        for (int generation = 2; generation <= 4; generation++)
        {
            master.Signal(Native.SIGHUP);
            int pid = await master.WaitForRestartAsync(generation);
            await WaitUntilServedByAsync(pids, pid, failures);
        }

        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.Empty(failures);
        Assert.True(succeeded > 200, $"only {succeeded} requests succeeded");
        Assert.Equal(4, pids.Count);
    }

    private static Task WaitUntilServedByAsync(HashSet<int> pids, int pid, object gate) =>
        Faults.Faulty.WaitUntilAsync(() =>
        {
            lock (gate)
            {
                return pids.Contains(pid);
            }
        }, TimeSpan.FromSeconds(15), $"pid {pid} to serve a client");
}

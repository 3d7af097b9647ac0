using System.Net;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// Clients that each send <c>GET /</c> back to back until stopped, and count every request that fails.
/// Nothing is retried, so any failure is one a real client would see.
/// </summary>
internal sealed class RequestLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients;
    private readonly Lock _lock = new();
    private readonly List<KeepAliveClient> _connections = [];
    private int _succeeded;

    /// <param name="clients">How many clients send at once.</param>
    /// <param name="newClient">Makes one client's request (called once per client, before any starts): it returns whether it succeeded, and the body or what failed.</param>
    public RequestLoad(int clients, Func<Func<Task<(bool Ok, string Text)>>> newClient)
    {
        var requests = Enumerable.Range(0, clients).Select(_ => newClient()).ToList();
        _clients = [.. requests.Select(request => Task.Run(() => RunAsync(request)))];
    }

    /// <summary>Keep-alive clients (<see cref="KeepAliveClient"/>) on <paramref name="server"/>.</summary>
    public static RequestLoad KeepAlive(EndPoint server, int clients, bool tls = false)
    {
        var connections = new List<KeepAliveClient>();
        var load = new RequestLoad(clients, () =>
        {
            var client = new KeepAliveClient(server, tls);
            connections.Add(client);

            return async () =>
            {
                var (status, body, _) = await client.GetAsync("/", CancellationToken.None);
                return status == 200 ? (true, body) : (false, $"status {status}");
            };
        });
        load._connections.AddRange(connections);
        return load;
    }

    public List<string> Failures { get; } = [];

    /// <summary>The pids that answered; read it once the load has stopped (<see cref="HasServed"/> before).</summary>
    public HashSet<int> Pids { get; } = [];

    public int Succeeded
    {
        get
        {
            lock (_lock)
            {
                return _succeeded;
            }
        }
    }

    /// <summary>True once <paramref name="pid"/> has answered a request.</summary>
    public bool HasServed(int pid)
    {
        lock (_lock)
        {
            return Pids.Contains(pid);
        }
    }

    /// <summary>Stops the clients; returns how many connections each keep-alive client opened.</summary>
    public async Task<int[]> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
        return [.. _connections.Select(c => c.Connections)];
    }

    private async Task RunAsync(Func<Task<(bool Ok, string Text)>> request)
    {
        while (!_stop.IsCancellationRequested)
        {
            string? failure;
            try
            {
                var (ok, text) = await request();
                failure = ok ? null : text;
                if (ok)
                {
                    int pid = Http.ParsePid(text);
                    lock (_lock)
                    {
                        _succeeded++;
                        Pids.Add(pid);
                    }
                }
            }
            catch (Exception e)
            {
                failure = e.GetType().Name + ": " + e.Message;
            }

            if (failure is not null)
            {
                lock (_lock)
                {
                    Failures.Add(failure);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        foreach (var client in _connections)
        {
            client.Dispose();
        }

        _stop.Dispose();
    }
}

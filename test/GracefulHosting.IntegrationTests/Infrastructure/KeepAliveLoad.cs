using System.Net;
using System.Net.Sockets;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// Back-to-back GETs of / from several <see cref="KeepAliveClient"/>s, which never retry, until
/// stopped. Records every failure and every pid that answered, in order.
/// </summary>
internal sealed class KeepAliveLoad : IAsyncDisposable
{
    /// <summary>Long enough for a request to wait in the socket's backlog while systemd restarts the service.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly Lock _lock = new();
    private readonly List<LoadFailure> _failures = [];
    private readonly List<int> _pids = [];
    private readonly HashSet<int> _pidSet = [];
    private int _succeeded;

    public KeepAliveLoad(IPEndPoint server, int clients = 4)
    {
        for (int i = 0; i < clients; i++)
        {
            _workers.Add(Task.Run(() => RunAsync(server)));
        }
    }

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

    /// <summary>Every failed request: refused or reset connections, timeouts, early closes and statuses other than 200.</summary>
    public IReadOnlyList<LoadFailure> Failures
    {
        get
        {
            lock (_lock)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>The pids that answered, in the order they first did.</summary>
    public IReadOnlyList<int> Pids
    {
        get
        {
            lock (_lock)
            {
                return [.. _pids];
            }
        }
    }

    public bool HasSeen(int pid)
    {
        lock (_lock)
        {
            return _pidSet.Contains(pid);
        }
    }

    /// <summary>Waits until <paramref name="pid"/> has answered a request, then until <paramref name="more"/> requests more succeeded.</summary>
    public async Task WaitForPidAsync(int pid, TimeSpan timeout, int more = 20)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!HasSeen(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"pid {pid} served no request within {timeout}; pids so far {string.Join(", ", Pids)}; failures: {string.Join("; ", Failures)}");
            }

            await Task.Delay(10);
        }

        int target = Succeeded + more;
        while (Succeeded < target && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }

    private async Task RunAsync(IPEndPoint server)
    {
        using var client = new KeepAliveClient(server);
        bool newConnection = true;
        while (!_stop.IsCancellationRequested)
        {
            using var timeout = new CancellationTokenSource(RequestTimeout);
            LoadFailure? failure;
            int pid = 0;
            try
            {
                var (status, body, close) = await client.GetAsync("/", timeout.Token);
                failure = status == 200 ? null : new LoadFailure(DateTime.UtcNow, newConnection, $"status {status}: {body}");
                if (failure is null)
                {
                    pid = Http.ParsePid(body);
                }

                // The client opens a new connection after Connection: close (and after a failure).
                newConnection = close || failure is not null;
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or FormatException)
            {
                failure = new LoadFailure(DateTime.UtcNow, newConnection, $"{e.GetType().Name}: {e.Message}");
                newConnection = true;
            }

            lock (_lock)
            {
                if (failure is null)
                {
                    _succeeded++;
                    if (_pidSet.Add(pid))
                    {
                        _pids.Add(pid);
                    }
                }
                else
                {
                    _failures.Add(failure);
                }
            }
        }
    }

    /// <summary>Lets each client finish the request it is in, then stops.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }
}

/// <summary>One failed request of a <see cref="KeepAliveLoad"/>.</summary>
/// <param name="At">When it failed (UTC).</param>
/// <param name="NewConnection">
/// The request was the first on a new connection (or its connect failed): no earlier request had
/// been answered on it, so it may never have been accepted by the server.
/// </param>
/// <param name="Message">The exception or the status and body.</param>
internal sealed record LoadFailure(DateTime At, bool NewConnection, string Message)
{
    public override string ToString() => $"{At:HH:mm:ss.fff} {(NewConnection ? "new" : "reused")} connection: {Message}";
}

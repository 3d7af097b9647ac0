using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;

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
    private readonly List<string>? _bodies;
    private int _succeeded;
    private int _lastPid;

    /// <param name="server">A TCP or Unix domain socket endpoint.</param>
    /// <param name="clients">How many clients send at once.</param>
    /// <param name="tls">Whether the clients speak TLS (any certificate).</param>
    /// <param name="keepBodies">Whether to keep the body of every answer in <see cref="Bodies"/>.</param>
    public KeepAliveLoad(EndPoint server, int clients = 4, bool tls = false, bool keepBodies = false)
    {
        _bodies = keepBodies ? [] : null;
        for (int i = 0; i < clients; i++)
        {
            _workers.Add(Task.Run(() => RunAsync(server, tls)));
        }
    }

    /// <summary>Clients on <paramref name="address"/>, which must be plain http to an IP address.</summary>
    public KeepAliveLoad(Uri address, int clients = 4, bool keepBodies = false)
        : this(EndPointOf(address), clients, tls: false, keepBodies)
    {
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

    /// <summary>
    /// Every failed request: refused or reset connections, failed TLS handshakes, timeouts, early
    /// closes, statuses other than 200 and answers without a pid. Any other exception ends its client
    /// and is thrown by <see cref="StopAsync"/>.
    /// </summary>
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

    /// <summary>The pid that answered the latest successful request (0 before any).</summary>
    public int LastPid
    {
        get
        {
            lock (_lock)
            {
                return _lastPid;
            }
        }
    }

    /// <summary>The body of every successful answer, when the load was made with <c>keepBodies</c>.</summary>
    public IReadOnlyList<string> Bodies
    {
        get
        {
            lock (_lock)
            {
                return _bodies is null
                    ? throw new InvalidOperationException("This load keeps no bodies; make it with keepBodies: true.")
                    : [.. _bodies];
            }
        }
    }

    /// <summary>True once <paramref name="pid"/> has answered a request.</summary>
    public bool HasServed(int pid)
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
        while (!HasServed(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"pid {pid} served no request within {timeout}; pids so far {string.Join(", ", Pids)}; " +
                    $"{Succeeded} succeeded, failures: {string.Join("; ", Failures.Take(10))}");
            }

            await Task.Delay(10);
        }

        int target = Succeeded + more;
        while (Succeeded < target && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }

    private static IPEndPoint EndPointOf(Uri address) =>
        address.Scheme == Uri.UriSchemeHttp && IPAddress.TryParse(address.Host, out var ip)
            ? new IPEndPoint(ip, address.Port)
            : throw new ArgumentException($"KeepAliveLoad speaks plain HTTP/1.1 to an IP address, not to {address}", nameof(address));

    private async Task RunAsync(EndPoint server, bool tls)
    {
        using var client = new KeepAliveClient(server, tls);
        bool newConnection = true;
        while (!_stop.IsCancellationRequested)
        {
            // Not cancelled by StopAsync: a request that has started is waited for and counted.
            using var timeout = new CancellationTokenSource(RequestTimeout);
            LoadFailure? failure;
            string body = "";
            int pid = 0;
            try
            {
                (int status, body, bool close) = await client.GetAsync("/", timeout.Token);
                failure = status == 200 ? null : new LoadFailure(DateTime.UtcNow, newConnection, $"status {status}: {body}");
                if (failure is null)
                {
                    pid = Http.ParsePid(body);
                }

                // The client opens a new connection after Connection: close (and after a failure).
                newConnection = close || failure is not null;
            }
            catch (Exception e) when (e is IOException or SocketException or AuthenticationException or OperationCanceledException or FormatException)
            {
                failure = new LoadFailure(DateTime.UtcNow, newConnection, $"{e.GetType().Name}: {e.Message}");
                newConnection = true;
            }

            lock (_lock)
            {
                if (failure is null)
                {
                    _succeeded++;
                    _lastPid = pid;
                    _bodies?.Add(body);
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

using System.Net;
using System.Net.Http;
using System.Text.RegularExpressions;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>Requests against HelloGraceful that read the serving pid.</summary>
internal static partial class Http
{
    public static HttpClient CreateClient(Uri baseAddress, bool acceptAnyCertificate = false)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (acceptAnyCertificate)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }

        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>GETs <paramref name="path"/> and returns the pid in the body; throws unless the status is 200.</summary>
    public static async Task<int> GetPidAsync(HttpClient client, string path = "/")
    {
        using var response = await client.GetAsync(path);
        string body = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 200)
        {
            throw new HttpRequestException($"GET {path} returned {(int)response.StatusCode}: {body}");
        }

        return ParsePid(body);
    }

    public static int ParsePid(string body)
    {
        var match = PidPattern().Match(body);
        if (!match.Success)
        {
            throw new FormatException($"No pid in response '{body}'");
        }

        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Retries until the server answers 200, for tests that wait for a state.</summary>
    public static async Task<int> WaitForPidAsync(HttpClient client, Func<int, bool> accept, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                int pid = await GetPidAsync(client);
                if (accept(pid))
                {
                    return pid;
                }
            }
            catch (HttpRequestException e)
            {
                last = e;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No accepted pid within {timeout}", last);
    }

    [GeneratedRegex(@"pid=(\d+)")]
    private static partial Regex PidPattern();
}

/// <summary>
/// Clients that request back-to-back on keep-alive connections until stopped, and count every
/// failure. Each is a <see cref="KeepAliveClient"/>, which never retries: a refused connection, a
/// reset, a response cut short, a status other than 200 or no answer within
/// <see cref="RequestTimeout"/> is a failure.
/// </summary>
internal sealed class LoadClient : IAsyncDisposable
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly IPEndPoint _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly Lock _lock = new();

    public LoadClient(Uri baseAddress, int concurrency)
    {
        if (baseAddress.Scheme != Uri.UriSchemeHttp || !IPAddress.TryParse(baseAddress.Host, out var address))
        {
            throw new ArgumentException($"LoadClient speaks plain HTTP/1.1 to an IP address, not to {baseAddress}", nameof(baseAddress));
        }

        _server = new IPEndPoint(address, baseAddress.Port);
        for (int i = 0; i < concurrency; i++)
        {
            _workers.Add(Task.Run(RunAsync));
        }
    }

    public int Succeeded { get; private set; }

    public List<string> Failures { get; } = [];

    /// <summary>The pids that answered, in order, each run of answers from one pid listed once.</summary>
    public List<int> Pids { get; } = [];

    public int LastPid { get; private set; }

    private async Task RunAsync()
    {
        using var client = new KeepAliveClient(_server);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                // Not cancelled by StopAsync: a request that has started is waited for and counted.
                using var timeout = new CancellationTokenSource(RequestTimeout);
                var (status, body, _) = await client.GetAsync("/", timeout.Token);
                lock (_lock)
                {
                    if (status != 200)
                    {
                        Failures.Add($"status {status}: {body}");
                        continue;
                    }

                    int pid = Http.ParsePid(body);
                    Succeeded++;
                    LastPid = pid;
                    if (Pids.Count == 0 || Pids[^1] != pid)
                    {
                        Pids.Add(pid);
                    }
                }
            }
            catch (Exception e)
            {
                lock (_lock)
                {
                    Failures.Add(e.GetType().Name + ": " + e.Message);
                }
            }
        }
    }

    /// <summary>Waits until <paramref name="pid"/> has answered a request of this load.</summary>
    public async Task WaitForPidAsync(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_lock)
            {
                if (Pids.Contains(pid))
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"pid {pid} answered no request within {timeout}; answered so far: " +
                        $"{string.Join(", ", Pids)}; {Succeeded} succeeded, failures: {string.Join("; ", Failures.Take(10))}");
                }
            }

            await Task.Delay(10);
        }
    }

    public async Task StopAsync()
    {
        _stop.Cancel();
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

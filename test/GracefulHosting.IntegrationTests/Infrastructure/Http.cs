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
/// A client that requests back-to-back on keep-alive connections until stopped, and counts every
/// failure. Requests are not retried.
/// </summary>
internal sealed class LoadClient : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly Lock _lock = new();

    public LoadClient(Uri baseAddress, int concurrency)
    {
        _client = Http.CreateClient(baseAddress);
        for (int i = 0; i < concurrency; i++)
        {
            _workers.Add(Task.Run(RunAsync));
        }
    }

    public int Succeeded { get; private set; }

    public List<string> Failures { get; } = [];

    public List<int> Pids { get; } = [];

    public int LastPid { get; private set; }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                int pid = await Http.GetPidAsync(_client);
                lock (_lock)
                {
                    Succeeded++;
                    LastPid = pid;
                    if (Pids.Count == 0 || Pids[^1] != pid)
                    {
                        Pids.Add(pid);
                    }
                }
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                lock (_lock)
                {
                    Failures.Add(e.GetType().Name + ": " + e.Message);
                }
            }
            catch (Exception)
            {
                return;
            }
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

        _client.Dispose();
        _stop.Dispose();
    }
}

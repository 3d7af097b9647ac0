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

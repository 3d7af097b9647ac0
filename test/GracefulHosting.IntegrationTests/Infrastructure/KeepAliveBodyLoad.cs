using System.Net;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// Clients that GET a path back-to-back on keep-alive connections (<see cref="KeepAliveClient"/>,
/// which never retries) until stopped, and record every answer and every failure.
/// </summary>
internal sealed class KeepAliveBodyLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients;
    private readonly Lock _lock = new();

    public KeepAliveBodyLoad(Uri address, int clients, string path = "/")
    {
        var server = new IPEndPoint(IPAddress.Parse(address.Host), address.Port);
        _clients = Enumerable.Range(0, clients).Select(_ => Task.Run(() => RunAsync(server, path))).ToList();
    }

    public List<string> Failures { get; } = [];

    public List<string> Bodies { get; } = [];

    /// <summary>Stops the clients and waits for their last requests.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(IPEndPoint server, string path)
    {
        using var client = new KeepAliveClient(server);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var (status, body, _) = await client.GetAsync(path, CancellationToken.None);
                lock (_lock)
                {
                    (status == 200 ? Bodies : Failures).Add(status == 200 ? body : $"status {status}: {body}");
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
}

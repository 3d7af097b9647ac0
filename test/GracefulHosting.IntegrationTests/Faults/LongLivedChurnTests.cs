using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>Open WebSockets do not hold restarts up: each old generation is gone within the grace period.</summary>
[Collection(SerialCollection.Name)]
public sealed class LongLivedChurnTests(ITestOutputHelper output)
{
    private const int Sockets = 100;
    private const int Restarts = 10;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task HundredWebSockets_TenRestarts_EachWithinStartTimeoutPlusGraceAtMostTwoGenerations()
    {
        await using var master = MasterProcess.Start(arguments:
        [
            $"--GracefulRestart:StartTimeout={StartTimeout}",
            $"--GracefulRestart:LongLivedGracePeriod={Grace}",
        ]);
        var address = await master.WaitForAddressAsync();
        int pid = await master.WaitForReadyAsync(1);
        await using var clients = new ReconnectingClients(address, Sockets);
        using var generations = new GenerationSampler(master.Pid);
        await clients.WaitUntilAllOnAsync(pid, master);

        var durations = new List<TimeSpan>();
        for (int generation = 2; generation <= Restarts + 1; generation++)
        {
            var watch = Stopwatch.StartNew();
            master.Signal(Native.SIGHUP);
            pid = await master.WaitForRestartAsync(generation, StartTimeout + Grace + TimeSpan.FromSeconds(10));
            durations.Add(watch.Elapsed);
            await clients.WaitUntilAllOnAsync(pid, master);
        }

        await master.WaitForLineAsync($@"Child generation {Restarts} \(pid \d+\) exited: exit code 0", StartTimeout);
        await clients.StopAsync();
        var (_, most, _) = generations.Stop();
        output.WriteLine($"restarts (SIGHUP to restart complete), ms: {string.Join(", ", durations.Select(d => d.TotalMilliseconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}; " +
            $"closes with 1001: {clients.GoingAwayCloses}; most generations alive: {most}");

        Assert.Empty(clients.Failures);
        Assert.All(durations, d => Assert.True(d < StartTimeout + Grace, $"a restart took {d}"));
        Assert.InRange(most, 1, 2);
        Assert.Equal(Sockets * Restarts, clients.GoingAwayCloses);
        Assert.False(master.HasLine("outlived GracefulRestart:ExitTimeout"), master.Output);
    }

    /// <summary>WebSocket clients of /ws that reconnect as soon as the server closes them, as browsers' apps do.</summary>
    private sealed class ReconnectingClients : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<int, int> _pidOf = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _loops;
        private int _goingAway;

        public ReconnectingClients(Uri address, int count) =>
            _loops = [.. Enumerable.Range(0, count).Select(i => Task.Run(() => RunAsync(address, i)))];

        public ConcurrentQueue<string> Failures { get; } = new();

        public int GoingAwayCloses => Volatile.Read(ref _goingAway);

        public async Task WaitUntilAllOnAsync(int pid, MasterProcess master) =>
            await Faulty.WaitUntilAsync(() => _loops.Count == _pidOf.Count && _pidOf.Values.All(p => p == pid), StartTimeout,
                $"all {_loops.Count} clients on pid {pid}",
                () => $"{_pidOf.Values.Count(p => p == pid)} are; failures: {string.Join("; ", Failures.Take(5))}. Output:\n{master.Output}");

        private async Task RunAsync(Uri address, int index)
        {
            var token = _stop.Token;
            while (!token.IsCancellationRequested)
            {
                try
                {
                    var (socket, pid) = await LongLivedClients.ConnectWebSocketAsync(address, token);
                    using (socket)
                    {
                        _pidOf[index] = pid;
                        string? message = await LongLivedClients.ReceiveTextAsync(socket, token);
                        if (message is not null || socket.CloseStatus != WebSocketCloseStatus.EndpointUnavailable)
                        {
                            Failures.Enqueue($"client {index} on pid {pid}: got '{message}', close {socket.CloseStatus} '{socket.CloseStatusDescription}'");
                        }
                        else
                        {
                            Interlocked.Increment(ref _goingAway);
                        }

                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, token);
                    }
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    Failures.Enqueue($"client {index}: {e.GetType().Name}: {e.Message}");
                }
                catch (Exception)
                {
                    // Stopped by the test.
                    return;
                }
            }
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_loops);
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
}

using System.Collections.Concurrent;
using GracefulHosting.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace GracefulHosting.IntegrationTests;

/// <summary>A SignalR hub under the master (test/apps/GracefulHosting.SignalRApp), with real SignalR clients.</summary>
public sealed class SignalRTests
{
    private const string App = "GracefulHosting.SignalRApp";
    private const int Clients = 5;
    private const int Restarts = 5;
    private const int MessagesPerClient = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private const string LongLivedSummary =
        @"Long-lived connections: (\d+) WebSocket\(s\) sent close 1001, (\d+) WebSocket\(s\) already closing, .*; (\d+) aborted";

    [Fact]
    public async Task HubClients_FiveRestarts_EveryClientReconnectsAndNoMessageAfterReconnectIsLost()
    {
        await using var master = MasterProcess.Start(app: App);
        var address = await master.WaitForAddressAsync();
        int pid = await master.WaitForReadyAsync(1);

        var clients = Enumerable.Range(0, Clients).Select(i => new ChatClient(address, $"c{i}")).ToList();
        try
        {
            await Task.WhenAll(clients.Select(c => c.StartAsync()));
            foreach (var client in clients)
            {
                Assert.Equal(pid, await client.Connection.InvokeAsync<int>("Pid"));
            }

            for (int restart = 1; restart <= Restarts; restart++)
            {
                master.Signal(Native.SIGHUP);
                int newPid = await master.WaitForRestartAsync(restart + 1);

                // Every client loses its connection to the old generation and reconnects on its own.
                await Task.WhenAll(clients.Select(c => c.WaitForReconnectsAsync(restart)));
                foreach (var client in clients)
                {
                    Assert.Equal(HubConnectionState.Connected, client.Connection.State);
                    Assert.Equal(newPid, await client.Connection.InvokeAsync<int>("Pid"));
                }

                // Messages sent after the reconnect reach every client, relayed by the new generation.
                var sent = new List<(string Sender, int Sequence)>();
                foreach (var client in clients)
                {
                    for (int k = 0; k < MessagesPerClient; k++)
                    {
                        int sequence = restart * 100 + k;
                        await client.Connection.InvokeAsync("Send", client.Name, sequence);
                        sent.Add((client.Name, sequence));
                    }
                }

                foreach (var client in clients)
                {
                    await client.WaitForMessagesAsync(sent, newPid, master);
                }
            }

            // The library saw SignalR's WebSockets (accepted in the hub's own pipeline) in every drain.
            await master.WaitForLineAsync(LongLivedSummary, skip: Restarts - 1);
            foreach (var (_, match) in Faults.Faulty.Matches(master, LongLivedSummary))
            {
                Assert.Equal(Clients, Faults.Faulty.Int(match.Groups[1]) + Faults.Faulty.Int(match.Groups[2]));
                Assert.Equal("0", match.Groups[3].Value);
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.Connection.DisposeAsync();
            }
        }
    }

    /// <summary>A hub connection with automatic reconnect that records reconnects and received messages.</summary>
    private sealed class ChatClient
    {
        private readonly ConcurrentDictionary<(string Sender, int Sequence), int> _received = new();
        private readonly SemaphoreSlim _changed = new(0);
        private int _reconnects;

        public ChatClient(Uri address, string name)
        {
            Name = name;
            Connection = new HubConnectionBuilder()
                .WithUrl(new Uri(address, "/chat"))
                .WithAutomaticReconnect(new QuickRetry())
                .Build();
            Connection.On<string, int, int>("Message", (sender, sequence, pid) =>
            {
                _received[(sender, sequence)] = pid;
                _changed.Release();
            });
            Connection.Reconnected += _ =>
            {
                Interlocked.Increment(ref _reconnects);
                _changed.Release();
                return Task.CompletedTask;
            };
        }

        public string Name { get; }

        public HubConnection Connection { get; }

        public int Reconnects => Volatile.Read(ref _reconnects);

        public Task StartAsync() => Connection.StartAsync();

        public Task WaitForReconnectsAsync(int count) =>
            WaitAsync(() => Reconnects >= count && Connection.State == HubConnectionState.Connected,
                () => $"{Name} reconnected {Reconnects} time(s), state {Connection.State}; expected {count}");

        public async Task WaitForMessagesAsync(IReadOnlyList<(string Sender, int Sequence)> sent, int pid, MasterProcess master)
        {
            await WaitAsync(() => sent.All(_received.ContainsKey),
                () => $"{Name} is missing {string.Join(", ", sent.Where(m => !_received.ContainsKey(m)))}. Output:\n{master.Output}");
            Assert.All(sent, m => Assert.Equal(pid, _received[m]));
        }

        private async Task WaitAsync(Func<bool> done, Func<string> state)
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (!done())
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException(state());
                }

                await _changed.WaitAsync(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
            }
        }
    }

    /// <summary>Reconnects at once, then every 100 ms, for as long as it takes.</summary>
    private sealed class QuickRetry : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
            retryContext.PreviousRetryCount == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(100);
    }
}

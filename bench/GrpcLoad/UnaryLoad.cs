using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Grpc.Core;
using GrpcApp;

namespace GrpcLoad;

internal static class UnaryLoad
{
    // A call still open this long after the run's end is counted as unfinished; calls carry no deadline.
    private static readonly TimeSpan Straggler = TimeSpan.FromSeconds(30);

    public static async Task RunAsync(Uri address, int callers, TimeSpan duration)
    {
        using var channel = Channels.Open(address);
        var client = new Ticker.TickerClient(channel);
        // The client pays its own first-call costs before the timed window.
        await client.HelloAsync(new HelloRequest { Name = "bench" });

        var failures = new ConcurrentDictionary<string, int>();
        var details = new ConcurrentDictionary<string, string>();
        var latencies = new List<double>[callers];
        long began = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, callers).Select(index => Task.Run(async () =>
        {
            var mine = latencies[index] = new List<double>(16_384);
            while (Stopwatch.GetElapsedTime(began) < duration)
            {
                long sent = Stopwatch.GetTimestamp();
                try
                {
                    await client.HelloAsync(new HelloRequest { Name = "bench" });
                    mine.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                }
                catch (RpcException e)
                {
                    failures.AddOrUpdate(e.StatusCode.ToString(), 1, (_, n) => n + 1);
                    details.TryAdd(e.StatusCode.ToString(), e.Status.Detail);
                }
            }
        })).ToArray();

        int unfinished = 0;
        try
        {
            await Task.WhenAll(tasks).WaitAsync(duration + Straggler);
        }
        catch (TimeoutException)
        {
            unfinished = tasks.Count(task => !task.IsCompleted);
            failures.TryAdd("Unfinished", unfinished);
        }

        double elapsed = Stopwatch.GetElapsedTime(began).TotalSeconds;
        // A caller that never finished still owns its list; only finished callers' latencies are read.
        var sorted = tasks.Select((task, index) => task.IsCompleted ? latencies[index] : [])
            .SelectMany(list => list).Order().ToArray();

        using var json = new Utf8JsonWriter(Console.OpenStandardOutput());
        json.WriteStartObject();
        json.WriteString("mode", "unary");
        json.WriteNumber("callers", callers);
        json.WriteNumber("seconds", elapsed);
        json.WriteNumber("calls", sorted.Length + failures.Values.Sum());
        json.WriteNumber("succeeded", sorted.Length);
        json.WriteNumber("failed", failures.Values.Sum());
        json.WriteNumber("callsPerSecond", sorted.Length / elapsed);
        json.WriteNumber("p50Ms", Percentile(sorted, 0.50));
        json.WriteNumber("p99Ms", Percentile(sorted, 0.99));
        json.WriteNumber("maxMs", sorted.Length > 0 ? sorted[^1] : 0);
        json.WriteStartObject("failures");
        foreach (var (status, n) in failures.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            json.WriteNumber(status, n);
        }

        json.WriteEndObject();
        json.WriteStartObject("details");
        foreach (var (status, detail) in details.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            json.WriteString(status, detail);
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
        Console.WriteLine();
    }

    private static double Percentile(double[] sorted, double quantile) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];
}

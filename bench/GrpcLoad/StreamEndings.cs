using System.Text.Json;
using Grpc.Core;
using GrpcApp;

namespace GrpcLoad;

internal static class StreamEndings
{
    // Opens the streams, says so on stdout (the benchmark then sends the restart signal), and follows
    // each one until it ends or the timeout passes; then reopens it once to see which generation answers.
    public static async Task RunAsync(Uri address, int count, TimeSpan timeout)
    {
        using var channel = Channels.Open(address);
        var client = new Ticker.TickerClient(channel);
        var calls = Enumerable.Range(0, count).Select(_ => client.Ticks(new TicksRequest())).ToList();
        var pids = new List<int>();
        foreach (var call in calls)
        {
            if (!await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                throw new InvalidOperationException($"a Ticks stream ended before its first tick: {call.GetStatus()}");
            }

            pids.Add(call.ResponseStream.Current.Pid);
        }

        using (var opened = new Utf8JsonWriter(Console.OpenStandardOutput()))
        {
            opened.WriteStartObject();
            opened.WriteString("mode", "streams");
            opened.WriteString("event", "open");
            opened.WriteNumber("openedAtMs", Channels.UnixMilliseconds());
            opened.WriteStartArray("pids");
            pids.ForEach(opened.WriteNumberValue);
            opened.WriteEndArray();
            opened.WriteEndObject();
        }

        Console.WriteLine();

        using var stop = new CancellationTokenSource(timeout);
        var endings = await Task.WhenAll(calls.Select((call, index) => FollowAsync(client, call, pids[index], stop.Token)));

        using var json = new Utf8JsonWriter(Console.OpenStandardOutput());
        json.WriteStartObject();
        json.WriteString("mode", "streams");
        json.WriteString("event", "ended");
        json.WriteStartArray("streams");
        foreach (var ending in endings)
        {
            json.WriteStartObject();
            json.WriteNumber("pid", ending.Pid);
            json.WriteNumber("ticks", ending.Ticks);
            json.WriteString("status", ending.Status);
            json.WriteString("detail", ending.Detail);
            json.WriteNumber("endedAtMs", ending.EndedAtMs);
            json.WriteNumber("reopenedPid", ending.ReopenedPid);
            json.WriteString("reopenStatus", ending.ReopenStatus);
            json.WriteNumber("reopenedAtMs", ending.ReopenedAtMs);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        Console.WriteLine();
    }

    private static async Task<StreamEnding> FollowAsync(Ticker.TickerClient client, AsyncServerStreamingCall<Tick> call, int pid, CancellationToken stop)
    {
        long ticks = 1;
        string status;
        string detail;
        using (call)
        {
            try
            {
                while (await call.ResponseStream.MoveNext(stop))
                {
                    ticks++;
                }

                status = call.GetStatus().StatusCode.ToString();
                detail = call.GetStatus().Detail;
            }
            catch (RpcException e) when (!stop.IsCancellationRequested)
            {
                status = e.StatusCode.ToString();
                detail = e.Status.Detail;
            }
            catch (RpcException) when (stop.IsCancellationRequested)
            {
                return new StreamEnding(pid, ticks, "NotEndedBeforeTimeout", "", 0, 0, "", 0);
            }
        }

        double endedAt = Channels.UnixMilliseconds();
        using var again = client.Ticks(new TicksRequest(), cancellationToken: stop);
        try
        {
            if (await again.ResponseStream.MoveNext(stop))
            {
                return new StreamEnding(pid, ticks, status, detail, endedAt, again.ResponseStream.Current.Pid, "OK", Channels.UnixMilliseconds());
            }

            return new StreamEnding(pid, ticks, status, detail, endedAt, 0, again.GetStatus().StatusCode.ToString(), 0);
        }
        catch (RpcException e)
        {
            return new StreamEnding(pid, ticks, status, detail, endedAt, 0, e.StatusCode.ToString(), 0);
        }
    }
}

using System.Diagnostics;
using System.Net.WebSockets;
using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests;

/// <summary>
/// WebSockets, event streams, long polls and uploads across a restart, with real clients of
/// HelloGraceful's /ws, /sse, /poll and /upload endpoints.
/// </summary>
public sealed class LongLivedConnectionTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WebSocket_GenerationDrains_GetsClose1001AndReconnectsToNewGeneration(bool http2)
    {
        await using var master = MasterProcess.Start(arguments: http2 ? ["--Kestrel:Endpoints:Http:Protocols=Http2"] : []);
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);
        using var timeout = new CancellationTokenSource(LongLivedClients.Timeout);
        var (socket, greetedBy) = await LongLivedClients.ConnectWebSocketAsync(address, http2: http2);
        using var _ = socket;
        Assert.Equal(oldPid, greetedBy);
        await LongLivedClients.SendTextAsync(socket, "hello", timeout.Token);
        Assert.Equal("hello", await LongLivedClients.ReceiveTextAsync(socket, timeout.Token));

        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(2);

        // The typical client loop: the next receive is the server's close, which the client answers.
        Assert.Null(await LongLivedClients.ReceiveTextAsync(socket, timeout.Token));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.Equal("server restarting", socket.CloseStatusDescription);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);

        // Reconnecting right away lands on the new generation, which was accepting before the close.
        var (again, reconnectedTo) = await LongLivedClients.ConnectWebSocketAsync(address, http2: http2);
        using (again)
        {
            Assert.Equal(newPid, reconnectedTo);
            await LongLivedClients.SendTextAsync(again, "still there", timeout.Token);
            Assert.Equal("still there", await LongLivedClients.ReceiveTextAsync(again, timeout.Token));
            // Leave as a client should: a socket dropped without the close handshake is an error in the
            // new generation's receive loop, which the check for unhandled exceptions below would see.
            await again.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }

        await master.WaitForLineAsync(
            @"Long-lived connections: 1 WebSocket\(s\) sent close 1001, 0 WebSocket\(s\) already closing, 0 gRPC stream\(s\) ended with UNAVAILABLE, 0 event stream\(s\) and 0 marked response\(s\) ended; 0 aborted");
        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) exited: exit code 0", ExitTimeout);
        AssertDrainedWellBeforeExitTimeout(master, oldPid);
        master.AssertInOrder("Restart complete: generation 2", "Long-lived connections: 1 WebSocket(s) sent close 1001");
        Assert.False(master.HasLine("unhandled exception"), master.Output);
    }

    [Fact]
    public async Task EventStream_GenerationDrains_EndsCleanlyAndReopensOnNewGeneration()
    {
        await using var master = MasterProcess.Start();
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);
        using var client = Http.CreateClient(address);
        using var response = await LongLivedClients.OpenEventStreamAsync(client);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal($"data: pid={oldPid} n=0", await reader.ReadLineAsync());

        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(2);

        // Read to the end: the stream must end with a whole event and a clean end of the body
        // (a truncated chunked body would throw here instead).
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(LongLivedClients.Timeout);
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            lines.Add(line);
        }

        Assert.NotEmpty(lines);
        Assert.Equal("", lines[^1]);
        Assert.All(lines.Where(l => l.Length > 0), l => Assert.Matches($@"^data: pid={oldPid} n=\d+$", l));

        using var fresh = Http.CreateClient(address);
        using var reopened = await LongLivedClients.OpenEventStreamAsync(fresh);
        using var reopenedReader = new StreamReader(await reopened.Content.ReadAsStreamAsync());
        Assert.Equal($"data: pid={newPid} n=0", await reopenedReader.ReadLineAsync(timeout.Token));

        await master.WaitForLineAsync(
            @"Long-lived connections: 0 WebSocket\(s\) sent close 1001, 0 WebSocket\(s\) already closing, 0 gRPC stream\(s\) ended with UNAVAILABLE, 1 event stream\(s\) and 0 marked response\(s\) ended; 0 aborted");
        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) exited: exit code 0", ExitTimeout);
        Assert.False(master.HasLine("unhandled exception"), master.Output);
    }

    [Fact]
    public async Task MarkedLongPoll_GenerationDrains_AnsweredAtOnceByOldGeneration()
    {
        await using var master = MasterProcess.Start();
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1 };
        using var client = new HttpClient(handler) { BaseAddress = address, Timeout = LongLivedClients.Timeout };

        // The same keep-alive connection carries the poll, so the poll is the old generation's.
        Assert.Equal(oldPid, await Http.GetPidAsync(client));
        var poll = client.GetAsync("/poll");
        master.Signal(Native.SIGHUP);
        await master.WaitForLineAsync($@"Stopping child generation 1 \(pid {oldPid}\) with SIGTERM");
        var sinceSigterm = Stopwatch.StartNew();

        using var answer = await poll;
        string body = await answer.Content.ReadAsStringAsync();
        Assert.Equal(200, (int)answer.StatusCode);
        Assert.Equal($"No news, pid={oldPid}\n", body);
        Assert.True(sinceSigterm.Elapsed < TimeSpan.FromSeconds(10), $"the poll was answered {sinceSigterm.Elapsed} after the drain began; it waits 30 s unless ended");
        await master.WaitForLineAsync(@"0 event stream\(s\) and 1 marked response\(s\) ended; 0 aborted");
    }

    [Fact]
    public async Task WebSocket_ClientNeverAnswersClose_AbortedAfterGracePeriodAndGenerationExits()
    {
        var grace = TimeSpan.FromSeconds(2);
        await using var master = MasterProcess.Start(arguments: [$"--GracefulRestart:LongLivedGracePeriod={grace}"]);
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);

        // This client never reads again, so it never answers the server's close frame.
        var (socket, greetedBy) = await LongLivedClients.ConnectWebSocketAsync(address);
        using var _ = socket;
        Assert.Equal(oldPid, greetedBy);

        master.Signal(Native.SIGHUP);
        await master.WaitForRestartAsync(2);
        var drained = await master.WaitForLineAsync(
            @"1 WebSocket\(s\) sent close 1001, .* 1 aborted after GracefulRestart:LongLivedGracePeriod \(00:00:02\); done in (\d+) ms");
        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) exited: exit code 0", ExitTimeout);

        double doneMs = double.Parse(drained.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(doneMs, grace.TotalMilliseconds - 50, grace.TotalMilliseconds + 2000);
        AssertDrainedWellBeforeExitTimeout(master, oldPid);
        Assert.False(master.HasLine("outlived GracefulRestart:ExitTimeout"), master.Output);
    }

    [Fact]
    public async Task Upload_StillSendingWhenGenerationDrains_CompletesWith200OnOldGeneration()
    {
        const long Size = 50L * 1024 * 1024;
        const long BeforeRestart = 10L * 1024 * 1024;
        await using var master = MasterProcess.Start();
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);

        using var upload = await LongLivedClients.Upload.StartAsync(address, "/upload", Size);
        await upload.SendAsync(BeforeRestart);
        master.Signal(Native.SIGHUP);
        await master.WaitForRestartAsync(2);
        await master.WaitForLineAsync($@"pid {oldPid} .*Stopping: no new connections");

        // The rest goes up while the old generation drains, past its quiet period and into Kestrel's stop.
        for (long sent = BeforeRestart; sent < Size; sent += 4 * 1024 * 1024)
        {
            await upload.SendAsync(Math.Min(4 * 1024 * 1024, Size - sent));
            await Task.Delay(150);
        }

        var (status, body) = await upload.ReadResponseAsync();
        Assert.Equal(200, status);
        Assert.Contains($"Received {Size} bytes, pid={oldPid}", body, StringComparison.Ordinal);
        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) exited: exit code 0", ExitTimeout);
    }

    /// <summary>From the master's SIGTERM to the old generation's exit, by the log's time stamps.</summary>
    private static void AssertDrainedWellBeforeExitTimeout(MasterProcess master, int oldPid)
    {
        var stopping = Faults.Proc.LogTime(Faults.Faulty.Line(master, $"Stopping child generation 1 (pid {oldPid}) with SIGTERM"));
        var exited = Faults.Proc.LogTime(Faults.Faulty.Line(master, $"Child generation 1 (pid {oldPid}) exited"));
        double drainMs = Faults.Proc.Between(stopping, exited);
        Assert.True(drainMs < ExitTimeout.TotalMilliseconds / 3, $"the old generation drained for {drainMs} ms. Output:\n{master.Output}");
    }
}

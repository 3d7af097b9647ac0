using System.Text;
using System.Text.Json.Nodes;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>
/// Stops, restarts, crashes and uploads that meet at awkward moments: a stop while the first
/// generation still starts, a first generation that never becomes ready, a restart while the old
/// generation still drains, a broken build under StopFirst, the serving child dying while a restart
/// is under way, and an upload still arriving while its generation drains.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class OverlappingEventTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sigterm_WhileFirstGenerationStarts_ChildKilledNoReadyExitZeroNothingLeft()
    {
        using var notify = new NotifyReceiver();
        await using var master = MasterProcess.Start(arguments: ["--HelloGraceful:WarmupMilliseconds=600000"],
            environment: new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = notify.Address }, output: output);
        int starting = Faulty.Int((await master.WaitForLineAsync(@"Started child generation 1 with pid (\d+)")).Groups[1]);
        await master.WaitForLineAsync($@"child#1 pid {starting} \S+: Warming up for 600000 ms");

        master.Signal(Native.SIGTERM);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the master did not exit");
        Assert.Equal(0, master.ExitCode);
        Assert.True(master.HasLine($@"Child generation 1 \(pid {starting}\) was still starting when the master was asked to stop; it is stopped"), master.Output);
        Assert.False(master.HasLine(@"is ready after"), "no generation may become ready once the master stops");
        Assert.DoesNotContain(notify.StateChanges, m => m.Contains("READY=1", StringComparison.Ordinal));
        // The child warms up before its Kestrel starts, so it never asked for a socket.
        Assert.False(master.HasLine("Bound "), master.Output);
        Faulty.AssertNothingLeft(master, [starting], port: null);
    }

    /// <remarks>
    /// A first generation that hangs or fails leaves nothing to serve and nothing to roll back to: the
    /// master says why and exits non-zero, so that a supervisor (systemd's Restart=on-failure) sees the failure.
    /// </remarks>
    [Theory]
    [InlineData("WarmupMilliseconds", "600000", @"it was not ready within GracefulRestart:StartTimeout \(00:00:03\)")]
    [InlineData("ThrowOnStartup", "true", @"it exited before it was ready \(exit code 1\)")]
    public async Task FirstGenerationNeverReady_MasterExitsNonZeroNamingTheReasonNothingLeft(string fault, string value, string reason)
    {
        await using var master = MasterProcess.Start(arguments: ["--GracefulRestart:StartTimeout=00:00:03", $"--HelloGraceful:{fault}={value}"], output: output);
        int child = Faulty.Int((await master.WaitForLineAsync(@"Started child generation 1 with pid (\d+)")).Groups[1]);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the master did not exit");
        Assert.NotEqual(0, master.ExitCode);
        Assert.True(master.HasLine($@"Child generation 1 \(pid {child}\) failed to start: {reason}; it is killed"), master.Output);
        Assert.Contains("The first generation of the app did not become ready; the master stops", master.Output, StringComparison.Ordinal);
        Assert.False(master.HasLine("Started child generation 2"), "the master must not go on starting generations");
        // The fault strikes before the child's Kestrel starts, so it never asked for a socket.
        Assert.False(master.HasLine("Bound "), master.Output);
        Faulty.AssertNothingLeft(master, [child], port: null);
    }

    /// <remarks>
    /// Generation 1 drains a long request when the second restart is asked for. At most two generations
    /// run at once, so generation 3 starts once generation 1 has finished its request and exited; the
    /// long request gets its 200 from generation 1, and clients see no failure throughout.
    /// </remarks>
    [Fact]
    public async Task Sighup_WhileOldGenerationDrainsLongRequest_NextGenerationStartsAfterItExitsNoRequestFails()
    {
        using var notify = new NotifyReceiver();
        await using var master = MasterProcess.Start(
            environment: new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = notify.Address }, output: output);
        var address = await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);
        using var sampler = new GenerationSampler(master.Pid);
        await using var load = new KeepAliveLoad(address, clients: 2);
        using var longClient = new KeepAliveClient(Faulty.EndPoint(address));
        // Long enough to outlast a restart on a busy machine.
        await longClient.ConnectAndWaitUntilAcceptedAsync(first, TimeSpan.FromSeconds(15));
        var longRequest = longClient.GetAsync("/slow?ms=12000", CancellationToken.None);

        master.Signal(Native.SIGHUP);
        int second = await master.WaitForRestartAsync(2);
        await master.WaitForLineAsync($@"child#1 pid {first} \S+: Stopping: no new connections");
        Assert.True(Native.IsAlive(first) && !longRequest.IsCompleted, "generation 1 should still be draining its long request");
        master.Signal(Native.SIGHUP);
        // systemd hears of the second reload at once, not only once generation 1 has drained.
        await notify.WaitForAsync(m => m.Count(x => x.Contains("RELOADING=1", StringComparison.Ordinal)) == 2, TimeSpan.FromSeconds(10));
        Assert.False(longRequest.IsCompleted, "RELOADING=1 must not wait for generation 1's drain");
        int third = await master.WaitForRestartAsync(3, TimeSpan.FromSeconds(60));

        var (status, body, _) = await longRequest;
        Assert.Equal(200, status);
        Assert.Equal(first, Http.ParsePid(body));
        await load.WaitForPidAsync(third, TimeSpan.FromSeconds(15));
        await master.WaitForLineAsync($@"Child generation 2 \(pid {second}\) exited: exit code 0");
        await load.StopAsync();
        var (_, _, overTwo) = sampler.Stop();

        Assert.Empty(load.Failures);
        Assert.Null(overTwo);
        master.AssertInOrder($"Child generation 1 (pid {first}) exited: exit code 0", "Started child generation 3",
            "generation 3 must start after generation 1 has drained and exited");
        Assert.Equal([third], Proc.DirectChildren(master.Pid));
    }

    /// <remarks>
    /// The fix for a crash loop is deployed while the master waits out its crash backoff. The replacement
    /// after the backoff is that reload: systemd (<c>Type=notify-reload</c>) hears RELOADING=1 at once and
    /// READY=1 once the replacement serves, instead of only STATUS= and a reload that times out.
    /// </remarks>
    [Fact]
    public async Task Sighup_DuringCrashBackoff_ReloadingAtOnceReadyOnceTheReplacementServes()
    {
        using var notify = new NotifyReceiver();
        await using var master = MasterProcess.Start(arguments:
            ["--GracefulRestart:CrashRestartDelay=00:00:08", "--GracefulRestart:CrashRestartMaxDelay=00:00:30"],
            environment: new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = notify.Address }, output: output);
        await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);
        // The first crash is replaced at once; the second waits CrashRestartDelay.
        Native.Kill(first, Native.SIGKILL);
        int second = await master.WaitForReadyAsync(2);
        Native.Kill(second, Native.SIGKILL);
        await master.WaitForLineAsync(@"Waiting 8000 ms before replacing the child \(crash 2 in a row\)");
        int before = notify.Messages.Count;

        master.Signal(Native.SIGHUP);
        await notify.WaitForAsync(m => m.Skip(before).Any(x => x.Contains("RELOADING=1", StringComparison.Ordinal)), TimeSpan.FromSeconds(6));
        Assert.False(master.HasLine("Started child generation 3"), "RELOADING=1 must come before the backoff ends");
        int third = await master.WaitForReadyAsync(3, TimeSpan.FromSeconds(60));
        await notify.WaitForAsync(m => m.Skip(before).Any(x => x.Contains("READY=1", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));

        var after = notify.Messages.Skip(before).ToList();
        Assert.Contains(after, m => m.Contains("READY=1", StringComparison.Ordinal) && m.Contains($"Generation 3 (pid {third}) serving", StringComparison.Ordinal));
        Assert.False(master.HasLine("Started child generation 4"), "the replacement is the reload: no second start");
        Assert.Equal([third], Proc.DirectChildren(master.Pid));
    }

    /// <remarks>
    /// StopFirst stops the serving generation before it starts the next; if the new build cannot start,
    /// nothing serves. The master does not give up: it keeps starting generations, waiting longer each
    /// time (200, 400, 800 ms up to the 1 s cap), keeps the listening socket, and serves again as soon as
    /// the build is fixed. A request sent during the outage waits in the socket's queue and is answered then.
    /// </remarks>
    [Fact]
    public async Task StopFirst_BrokenBuild_NothingServesRetriedWithBackoffRecoversWhenFixed()
    {
        using var copy = ExampleApp.CopyToTemp();
        await using var master = MasterProcess.Start(copy.Path,
        [
            "--GracefulRestart:Strategy=StopFirst",
            "--GracefulRestart:CrashRestartDelay=00:00:00.200",
            "--GracefulRestart:CrashRestartMaxDelay=00:00:01",
        ], output: output);
        var address = await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);

        Faulty.SetHelloOption(copy.Path, "ThrowOnStartup", JsonValue.Create(true));
        master.Signal(Native.SIGHUP);
        await master.WaitForLineAsync($@"Child generation 1 \(pid {first}\) exited: exit code 0");
        using var client = new KeepAliveClient(Faulty.EndPoint(address));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var pending = client.GetAsync("/", timeout.Token);
        await master.WaitForLineAsync(@"Child generation 6 \(pid \d+\) failed to start: it exited before it was ready \(exit code 1\)", TimeSpan.FromSeconds(90));

        Assert.False(pending.IsCompleted, "nothing may serve while the build is broken");
        Assert.False(master.HasLine(@"Child generation [2-6] \(pid \d+\) is ready"), master.Output);
        var waits = Faulty.Matches(master, @"Waiting (\d+) ms before replacing the child \(crash (\d+) in a row\)")
            .Select(w => (Faulty.Int(w.Match.Groups[1]), Faulty.Int(w.Match.Groups[2]))).Take(3).ToList();
        Assert.Equal([(200, 2), (400, 3), (800, 4)], waits);

        Faulty.RemoveHelloOption(copy.Path, "ThrowOnStartup");
        // The first match is generation 1's.
        var ready = await master.WaitForLineAsync(@"Child generation (\d+) \(pid (\d+)\) is ready", TimeSpan.FromSeconds(60), skip: 1);
        int recovered = Faulty.Int(ready.Groups[2]);

        var (status, body, _) = await pending;
        Assert.Equal(200, status);
        Assert.Equal(recovered, Http.ParsePid(body));
        Assert.True(Faulty.Int(ready.Groups[1]) > 6, $"recovered as generation {ready.Groups[1].Value}");
        Assert.True(Native.IsAlive(master.Pid), "the master must stay up");
        Assert.Equal([recovered], Proc.DirectChildren(master.Pid));
    }

    /// <remarks>
    /// The serving generation is killed while the next one is still warming up. The restart under way
    /// is its replacement: no third generation starts, and a request sent while nothing serves waits in
    /// the master's socket until generation 2 accepts it.
    /// </remarks>
    [Fact]
    public async Task ServingChildKilled_WhileRestartUnderWay_NewGenerationTakesOverWithoutAnotherStart()
    {
        using var copy = ExampleApp.CopyToTemp();
        await using var master = MasterProcess.Start(copy.Path, output: output);
        var address = await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);

        Faulty.SetHelloOption(copy.Path, "WarmupMilliseconds", JsonValue.Create(3000));
        master.Signal(Native.SIGHUP);
        int second = Faulty.Int((await master.WaitForLineAsync(@"Started child generation 2 with pid (\d+)")).Groups[1]);
        await master.WaitForLineAsync($@"child#2 pid {second} \S+: Warming up for 3000 ms");
        Native.Kill(first, Native.SIGKILL);
        await Faulty.WaitUntilAsync(() => !Native.IsAlive(first), TimeSpan.FromSeconds(10), "generation 1 to die");
        using var client = new KeepAliveClient(Faulty.EndPoint(address));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var pending = client.GetAsync("/", timeout.Token);

        Assert.Equal(second, await master.WaitForRestartAsync(2));
        var (status, body, _) = await pending;
        Assert.Equal(200, status);
        Assert.Equal(second, Http.ParsePid(body));
        await master.WaitForLineAsync($@"Child generation 1 \(pid {first}\) exited: signal 9");
        Assert.Null(Native.ProcState(first));
        Assert.False(master.HasLine("Started child generation 3"), "the restart under way replaces the dead generation");
        Assert.Equal([second], Proc.DirectChildren(master.Pid));
        Assert.True(Native.IsAlive(master.Pid), "the master must stay up");
    }

    /// <remarks>
    /// Half of a 16 MB body is sent, then the restart happens; the rest is sent once the old generation
    /// drains. The upload completes on the old generation with 200 and every byte counted.
    /// </remarks>
    [Fact]
    public async Task LargeUpload_WhileItsGenerationDrains_CompletesWith200FromOldPid()
    {
        const int size = 16 * 1024 * 1024;
        await using var master = MasterProcess.Start(output: output);
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);
        var upload = new byte[size];
        using var client = new KeepAliveClient(Faulty.EndPoint(address));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await client.ConnectAndWaitUntilAcceptedAsync(oldPid, TimeSpan.FromSeconds(15));
        await client.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /upload HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n"), timeout.Token);
        await client.WriteAsync(upload.AsMemory(0, size / 2), timeout.Token);

        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(2);
        await master.WaitForLineAsync($@"child#1 pid {oldPid} \S+: Stopping: no new connections");
        Assert.True(Native.IsAlive(oldPid), "the old generation should be draining");
        await client.WriteAsync(upload.AsMemory(size / 2), timeout.Token);
        var (status, body, _) = await client.ReadResponseAsync(timeout.Token);

        Assert.Equal(200, status);
        Assert.Equal($"Received {size} bytes, pid={oldPid}\n", body);
        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) exited: exit code 0");
        using var fresh = Http.CreateClient(address);
        Assert.Equal(newPid, await Http.GetPidAsync(fresh));
    }
}

using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>Real master and child processes, real sockets on 127.0.0.1, real signals.</summary>
public sealed class RestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sighup_ThreeTimesUnderLoad_EachRestartChangesPidAndNoRequestFails()
    {
        await using var master = MasterProcess.Start(output: output);
        var address = await master.WaitForAddressAsync();
        int firstPid = await master.WaitForReadyAsync(1);

        await using var load = new KeepAliveLoad(address, clients: 4);
        await load.WaitForPidAsync(firstPid, TimeSpan.FromSeconds(15));
        var servedBy = new List<int> { firstPid };
        for (int generation = 2; generation <= 4; generation++)
        {
            master.Signal(Native.SIGHUP);
            int pid = await master.WaitForRestartAsync(generation);
            // Once the old generation has exited, every request goes to the new one.
            await master.WaitForLineAsync($@"Child generation {generation - 1} \(pid {servedBy[^1]}\) exited");
            await load.WaitForPidAsync(pid, TimeSpan.FromSeconds(15));
            servedBy.Add(pid);
        }

        await load.StopAsync();

        Assert.Empty(load.Failures);
        Assert.True(load.Succeeded > 50, $"only {load.Succeeded} requests succeeded");
        Assert.Equal(4, servedBy.Distinct().Count());
        Assert.DoesNotContain(master.Pid, servedBy);
        Assert.Equal(servedBy, load.Pids.Distinct());
        Assert.Equal(servedBy[^1], load.LastPid);
    }

    [Fact]
    public async Task Sighup_SlowRequestInFlight_CompletesWith200FromOldPid()
    {
        await using var master = MasterProcess.Start(output: output);
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);
        var server = Faults.Faulty.EndPoint(address);
        using var slowClient = new KeepAliveClient(server);

        // Long enough to outlast a restart on a busy machine; sent once the old child has accepted its connection.
        await slowClient.ConnectAndWaitUntilAcceptedAsync(oldPid, TimeSpan.FromSeconds(15));
        var slow = slowClient.GetAsync("/slow?ms=6000", CancellationToken.None);
        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(2);

        // The old child logs that it takes no new connections once it has closed its copy of the
        // listening socket: from then on only the new child can accept.
        await master.WaitForLineAsync($@"child#1 pid {oldPid} \S+: Stopping: no new connections");
        Assert.Empty(ProcNet.ListeningSockets(oldPid));
        Assert.True(Native.IsAlive(oldPid), "the old child should still be draining");
        using (var fresh = new KeepAliveClient(server))
        {
            var (status, body, _) = await fresh.GetAsync("/", CancellationToken.None);
            Assert.Equal(200, status);
            Assert.Equal(newPid, Http.ParsePid(body));
        }

        var (slowStatus, slowBody, _) = await slow;
        Assert.Equal(200, slowStatus);
        Assert.Equal(oldPid, Http.ParsePid(slowBody));
        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) exited: exit code 0");
        using var client = Http.CreateClient(address);
        Assert.Equal(newPid, await Http.GetPidAsync(client));
    }

    [Fact]
    public async Task Sighup_OldChildHasClosedItsCopy_SocketStillAcceptsInNewChild()
    {
        await using var master = MasterProcess.Start(output: output);
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);

        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(2);
        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) exited");
        Assert.False(Native.IsAlive(oldPid));

        // Fresh connections, one per request: each needs a working accept queue.
        for (int i = 0; i < 20; i++)
        {
            using var client = Http.CreateClient(address);
            Assert.Equal(newPid, await Http.GetPidAsync(client));
        }
    }

    [Fact]
    public async Task Sighup_NewGenerationHasInvalidAppsettings_RolledBackAndOldPidServes()
    {
        using var copy = ExampleApp.CopyToTemp();
        await using var master = MasterProcess.Start(copy.Path, output: output);
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);

        string settings = Path.Combine(copy.Path, "appsettings.json");
        string good = await File.ReadAllTextAsync(settings);
        await File.WriteAllTextAsync(settings, "{ this is not json");
        master.Signal(Native.SIGHUP);

        await master.WaitForLineAsync(@"Child generation 2 \(pid \d+\) failed to start: it exited before it was ready");
        await master.WaitForLineAsync($@"Restart rolled back: generation 1 \(pid {oldPid}\) keeps serving");
        using var client = Http.CreateClient(address);
        Assert.Equal(oldPid, await Http.GetPidAsync(client));
        Assert.False(master.HasExited);

        // Fixing the file makes the next restart succeed.
        await File.WriteAllTextAsync(settings, good);
        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(3);
        Assert.Equal(newPid, await Http.WaitForPidAsync(client, p => p == newPid, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task Sighup_StopFirstStrategy_OldGenerationExitsBeforeNewStarts()
    {
        await using var master = MasterProcess.Start(arguments: ["--GracefulRestart:Strategy=StopFirst"], output: output);
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);

        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(2);

        master.AssertInOrder($"Child generation 1 (pid {oldPid}) exited", "Started child generation 2",
            "StopFirst must stop the old generation before starting the new one");
        using var client = Http.CreateClient(address);
        Assert.Equal(newPid, await Http.WaitForPidAsync(client, p => p == newPid, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task Sigterm_ToMaster_StopsEverythingAndExitsZero()
    {
        await using var master = MasterProcess.Start(output: output);
        await master.WaitForAddressAsync();
        await master.WaitForReadyAsync(1);
        master.Signal(Native.SIGHUP);
        int child = await master.WaitForRestartAsync(2);
        var tree = Native.Descendants(master.Pid);
        Assert.Contains(child, tree);

        master.Signal(Native.SIGTERM);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the master did not exit");
        Assert.Equal(0, master.ExitCode);
        foreach (int pid in tree.Append(child))
        {
            Assert.False(Native.IsAlive(pid), $"process {pid} outlived the master");
        }
    }

    [Fact]
    public async Task Sigint_ToMaster_StopsEverythingAndExitsZero()
    {
        // A process started in the background of a non-interactive shell inherits SIGINT as ignored, and
        // the runtime then leaves it ignored: give the master the default disposition whatever the test runner's.
        await using var master = MasterProcess.Start(launcher: ["env", "--default-signal=INT"], output: output);
        await master.WaitForAddressAsync();
        int child = await master.WaitForReadyAsync(1);

        master.Signal(Native.SIGINT);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the master did not exit");
        Assert.Equal(0, master.ExitCode);
        Assert.False(Native.IsAlive(child));
    }

    /// <remarks>
    /// nohup starts the app with SIGHUP ignored, exec keeps that, and the runtime leaves an ignored
    /// signal ignored: without a reset the master would never see a restart signal.
    /// </remarks>
    [Fact]
    public async Task Sighup_MasterStartedUnderNohup_Restarts()
    {
        await using var master = MasterProcess.Start(launcher: ["nohup"], output: output);
        var address = await master.WaitForAddressAsync();
        int firstPid = await master.WaitForReadyAsync(1);
        await master.WaitForLineAsync("SIGHUP was ignored when the master started");

        master.Signal(Native.SIGHUP);
        int secondPid = await master.WaitForRestartAsync(2);

        Assert.NotEqual(firstPid, secondPid);
        using var client = Http.CreateClient(address);
        Assert.Equal(secondPid, await Http.WaitForPidAsync(client, p => p == secondPid, MasterProcess.DefaultTimeout));
    }
}

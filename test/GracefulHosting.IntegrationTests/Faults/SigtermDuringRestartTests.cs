using System.Text.Json.Nodes;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>SIGTERM that arrives in the middle of a restart still stops everything cleanly, with exit code 0.</summary>
[Collection(SerialCollection.Name)]
public sealed class SigtermDuringRestartTests(ITestOutputHelper output)
{
    /// <remarks>The new generation is still warming up: the master kills it, stops the serving one, and exits 0.</remarks>
    [Fact]
    public async Task Sigterm_WhileNewGenerationStarts_StartingKilledServingStoppedExitZeroNothingLeft()
    {
        using var copy = ExampleApp.CopyToTemp();
        await using var master = MasterProcess.Start(copy.Path, output: output);
        var address = await master.WaitForAddressAsync();
        int serving = await master.WaitForReadyAsync(1);

        Faulty.SetHelloOption(copy.Path, "WarmupMilliseconds", JsonValue.Create(600_000));
        master.Signal(Native.SIGHUP);
        int starting = Faulty.Int((await master.WaitForLineAsync(@"Started child generation 2 with pid (\d+)")).Groups[1]);
        await master.WaitForLineAsync("Warming up for 600000 ms");

        master.Signal(Native.SIGTERM);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the master did not exit");
        Assert.Equal(0, master.ExitCode);
        // The operator asked for this stop: the abandoned start is information, not a failure.
        Assert.True(master.HasLine($@"INF\].*Child generation 2 \(pid {starting}\) was still starting when the master was asked to stop; it is stopped"), master.Output);
        Assert.False(master.HasLine("failed to start"), master.Output);
        Assert.True(master.HasLine($@"Child generation 1 \(pid {serving}\) exited: exit code 0"), master.Output);
        Assert.True(master.HasLine("Master stopped"), master.Output);
        Faulty.AssertNothingLeft(master, [serving, starting], address.Port);
    }

    /// <remarks>
    /// The new generation serves and the old one is draining a slow request: the request still gets its
    /// 200 from the old pid, both generations exit, and so does the master, with 0.
    /// </remarks>
    [Fact]
    public async Task Sigterm_WhileOldGenerationDrains_InFlightRequestCompletesExitZeroNothingLeft()
    {
        await using var master = MasterProcess.Start(output: output);
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);
        // Long enough to outlast a restart on a busy machine; sent once the old generation has accepted its connection.
        using var client = new KeepAliveClient(Faulty.EndPoint(address));
        await client.ConnectAndWaitUntilAcceptedAsync(oldPid, TimeSpan.FromSeconds(15));
        var slow = client.GetAsync("/slow?ms=6000", CancellationToken.None);

        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(2);
        await master.WaitForLineAsync($@"Stopping child generation 1 \(pid {oldPid}\) with SIGTERM");
        Assert.True(Native.IsAlive(oldPid), "the old generation should still be draining");

        master.Signal(Native.SIGTERM);

        var (status, body, _) = await slow;
        Assert.Equal(200, status);
        Assert.Equal(oldPid, Http.ParsePid(body));
        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the master did not exit");
        Assert.Equal(0, master.ExitCode);
        Assert.True(master.HasLine($@"Child generation 1 \(pid {oldPid}\) exited: exit code 0"), master.Output);
        Assert.True(master.HasLine($@"Child generation 2 \(pid {newPid}\) exited: exit code 0"), master.Output);
        Faulty.AssertNothingLeft(master, [oldPid, newPid], address.Port);
    }

    /// <remarks>
    /// A logrotate <c>kill -HUP</c>, or a deploy racing a shutdown: the restart signal arrives while the
    /// master stops and a slow request still drains. It must be ignored, not end the master with the
    /// signal's default action (exit code 129) and orphan its child.
    /// </remarks>
    [Fact]
    public async Task Sighup_WhileMasterStops_IgnoredMasterExitsZeroNothingLeft()
    {
        await using var master = MasterProcess.Start(output: output);
        var address = await master.WaitForAddressAsync();
        int child = await master.WaitForReadyAsync(1);
        using var slowClient = new KeepAliveClient(Faulty.EndPoint(address));
        await slowClient.ConnectAndWaitUntilAcceptedAsync(child, TimeSpan.FromSeconds(15));
        var slow = slowClient.GetAsync("/slow?ms=6000", CancellationToken.None);

        master.Signal(Native.SIGTERM);
        await master.WaitForLineAsync($@"child#1 pid {child} \S+: Stopping: no new connections");
        master.Signal(Native.SIGHUP);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the master did not exit");
        Assert.Equal(0, master.ExitCode);
        var (slowStatus, slowBody, _) = await slow;
        Assert.Equal((200, child), (slowStatus, Http.ParsePid(slowBody)));
        Assert.True(master.HasLine("Master stopped"), master.Output);
        Faulty.AssertNothingLeft(master, [child], address.Port);
    }
}

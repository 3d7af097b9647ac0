using System.Text.Json.Nodes;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>
/// A new generation that cannot become ready is killed and reaped, the old one keeps serving, and the
/// master logs why and stays up. Only the new generation is faulty: the test edits the appsettings.json
/// of a private copy of the app after the first generation has read it. (The invalid-appsettings case
/// is <see cref="RestartTests.Sighup_NewGenerationHasInvalidAppsettings_RolledBackAndOldPidServes"/>.)
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class NewGenerationFaultTests(ITestOutputHelper output)
{
    // Long enough for the first generation to start on a busy machine; the hung one is killed after the same time.
    private const string StartTimeout = "00:00:10";

    [Theory]
    [InlineData("ThrowOnStartup", "true", @"it exited before it was ready \(exit code 1\)")]
    [InlineData("ExitEarlyMilliseconds", "300", @"it exited before it was ready \(exit code 0\)")]
    [InlineData("WarmupMilliseconds", "600000", @"it was not ready within GracefulRestart:StartTimeout \(00:00:10\)")]
    public async Task Sighup_NewGenerationFails_KilledAndReapedOldServesMasterStaysUp(string fault, string value, string reason)
    {
        using var copy = ExampleApp.CopyToTemp();
        await using var master = MasterProcess.Start(copy.Path, [$"--GracefulRestart:StartTimeout={StartTimeout}"], output: output);
        var address = await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);

        Faulty.SetHelloOption(copy.Path, fault, JsonNode.Parse(value)!);
        master.Signal(Native.SIGHUP);

        var started = await master.WaitForLineAsync(@"Started child generation 2 with pid (\d+)");
        int faultyPid = Faulty.Int(started.Groups[1]);
        await master.WaitForLineAsync($@"Child generation 2 \(pid {faultyPid}\) failed to start: {reason}; it is killed");
        await master.WaitForLineAsync($@"Restart rolled back: generation 1 \(pid {oldPid}\) keeps serving");

        // Killed and reaped: the pid is gone, not even a zombie, and the old generation is the master's only child.
        Assert.Null(Native.ProcState(faultyPid));
        Assert.Equal([oldPid], Proc.DirectChildren(master.Pid));
        Assert.True(Native.IsAlive(master.Pid) && !master.HasExited, "the master must stay up");
        using var client = Http.CreateClient(address);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(oldPid, await Http.GetPidAsync(client));
        }

        if (fault == "WarmupMilliseconds")
        {
            // Killed at StartTimeout, not before and not much later (log times are wall-clock milliseconds,
            // the timeout runs on the monotonic clock: allow a few milliseconds either way).
            double waited = Proc.Between(Proc.LogTime(Faulty.Line(master, "Started child generation 2")), Proc.LogTime(Faulty.Line(master, "failed to start")));
            output.WriteLine($"hung generation killed {waited:0} ms after it started");
            Assert.InRange(waited, 9980, 13000);
        }

        // The master still works: with the fault gone, the next restart succeeds.
        Faulty.RemoveHelloOption(copy.Path, fault);
        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(3);
        Assert.Equal(newPid, await Http.WaitForPidAsync(client, p => p == newPid, TimeSpan.FromSeconds(15)));
    }
}

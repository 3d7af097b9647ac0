using System.Diagnostics;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

// A serving child that dies is replaced at once. The backoff of a child that keeps crashing is proven
// on a fake clock by the supervisor's table (Backoff_* in SupervisorTableTests).
[Collection(SerialCollection.Name)]
public sealed class CrashSupervisionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ServingChildKilledBySigkill_ReplacementStartsWithinOneSecondAndServes()
    {
        await using var master = MasterProcess.Start(output: output);
        var address = await master.WaitForAddressAsync();
        int killedPid = await master.WaitForReadyAsync(1);
        using var client = Http.CreateClient(address);
        Assert.Equal(killedPid, await Http.GetPidAsync(client));

        var watch = Stopwatch.StartNew();
        Native.Kill(killedPid, Native.SIGKILL);
        var started = await master.WaitForLineAsync(@"Started child generation 2 with pid (\d+)", TimeSpan.FromSeconds(10));
        var replacementStarted = watch.Elapsed;
        int replacement = Faulty.Int(started.Groups[1]);
        output.WriteLine($"replacement started {replacementStarted.TotalMilliseconds:0} ms after the SIGKILL");

        Assert.True(replacementStarted < TimeSpan.FromSeconds(1),
            $"the replacement started {replacementStarted.TotalMilliseconds:0} ms after SIGKILL; the first replacement must start within 1 s");
        Assert.True(master.HasLine($@"Serving child generation 1 \(pid {killedPid}\) exited unexpectedly: signal 9 \(exit code 137\)"), master.Output);
        Assert.False(master.HasLine("before replacing the child"), "the first replacement must not wait");
        Assert.Null(Native.ProcState(killedPid));

        Assert.Equal(replacement, await master.WaitForReadyAsync(2));
        Assert.Equal(replacement, await Http.WaitForPidAsync(client, p => p == replacement, TimeSpan.FromSeconds(15)));
        Assert.Equal([replacement], Proc.DirectChildren(master.Pid));
    }
}

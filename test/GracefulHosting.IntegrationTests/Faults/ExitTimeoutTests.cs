using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>
/// A child that ignores SIGTERM is killed with SIGKILL once <c>ExitTimeout</c> has passed, both when a
/// restart retires it and when the master stops, and it is reaped. (A child that drains too long is
/// <see cref="LifecycleTests.Sighup_OldChildOverrunsExitTimeout_KilledAndReaped"/>.)
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ExitTimeoutTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ChildIgnoresSigterm_SigkilledAtExitTimeoutOnRestartAndOnStop_Reaped()
    {
        await using var master = MasterProcess.Start(arguments:
        [
            "--HelloGraceful:IgnoreSigterm=true",
            "--GracefulRestart:ExitTimeout=00:00:02",
            "--GracefulRestart:DrainQuietPeriod=00:00:00.200",
        ], output: output);
        await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);
        await master.WaitForLineAsync("Fault hook HelloGraceful:IgnoreSigterm");

        // Restart: the old generation ignores its SIGTERM and is killed at ExitTimeout.
        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(2);
        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) outlived GracefulRestart:ExitTimeout \(00:00:02\); sending SIGKILL", TimeSpan.FromSeconds(15));
        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) exited: signal 9 \(exit code 137\)", TimeSpan.FromSeconds(15));
        double killedAfter = Proc.Between(
            Proc.LogTime(Faulty.Line(master, $"Stopping child generation 1 (pid {oldPid}) with SIGTERM")),
            Proc.LogTime(Faulty.Line(master, $"Child generation 1 (pid {oldPid}) outlived")));
        Assert.InRange(killedAfter, 1980, 3000);
        Assert.Null(Native.ProcState(oldPid));
        Assert.Equal([newPid], Proc.DirectChildren(master.Pid));

        // Stop: the master waits ExitTimeout for the child that ignores SIGTERM, kills it, and exits 0.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        master.Signal(Native.SIGTERM);
        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the master did not exit");
        var stopped = watch.Elapsed;
        Assert.Equal(0, master.ExitCode);
        Assert.True(master.HasLine($@"Child generation 2 \(pid {newPid}\) outlived GracefulRestart:ExitTimeout"), master.Output);
        Assert.True(master.HasLine($@"Child generation 2 \(pid {newPid}\) exited: signal 9 \(exit code 137\)"), master.Output);
        Assert.InRange(stopped.TotalMilliseconds, 1980, 6000);
        Assert.Null(Native.ProcState(newPid));
        output.WriteLine($"retired child SIGKILLed {killedAfter:0} ms after its SIGTERM; master stopped in {stopped.TotalMilliseconds:0} ms");
    }
}

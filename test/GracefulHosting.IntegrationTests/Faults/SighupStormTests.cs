using System.Diagnostics;
using System.Text.RegularExpressions;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>A burst of restart signals is coalesced: restarts run one at a time and never pile up.</summary>
[Collection(SerialCollection.Name)]
public sealed class SighupStormTests(ITestOutputHelper output)
{
    [Fact]
    public async Task HundredSighupsInOneSecond_CoalescedAtMostTwoGenerationsAliveExactlyOneServesAtTheEnd()
    {
        await using var master = MasterProcess.Start(output: output);
        var address = await master.WaitForAddressAsync();
        await master.WaitForReadyAsync(1);

        // Sample the master's live children (every generation is one) as often as /proc can be read.
        using var sampler = new GenerationSampler(master.Pid);

        // 100 SIGHUPs, one every 10 ms.
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 100; i++)
        {
            master.Signal(Native.SIGHUP);
            var next = TimeSpan.FromMilliseconds(10 * (i + 1));
            if (next > watch.Elapsed)
            {
                await Task.Delay(next - watch.Elapsed);
            }
        }

        var burst = watch.Elapsed;

        // Wait until every requested restart has finished and every retired generation has exited.
        await Faulty.WaitUntilAsync(() =>
        {
            // A serving child that dies is replaced outside any restart, and then the counts below never
            // add up: fail now, with the reason, instead of at the timeout.
            if (master.HasLine("exited unexpectedly"))
            {
                throw new InvalidOperationException("A child died during the storm:\n" + master.Output);
            }

            int started = Count(master, "Started child generation");
            int finished = Count(master, "Restart complete") + Count(master, "Restart rolled back");
            int exited = Count(master, @"Child generation \d+ \(pid \d+\) exited:") + Count(master, "failed to start");
            return finished == Count(master, "Restart requested") && started == finished + 1 && exited == started - 1;
        }, TimeSpan.FromSeconds(60), "the restarts to settle", () => master.Output);
        await Task.Delay(1000);
        var (samples, maxAlive, overTwo) = sampler.Stop();

        int requested = Count(master, "Restart requested");
        int coalesced = Count(master, "request coalesced");
        int generations = Count(master, "Started child generation");
        output.WriteLine($"burst {burst.TotalMilliseconds:0} ms; signals handled {requested + coalesced} (restarts {requested}, coalesced {coalesced}); " +
            $"generations started {generations}; {samples} samples, at most {maxAlive} generations alive");

        // Coalesced: each signal the master handled either started a restart or was folded into the one
        // pending (standard signals do not queue, so the kernel may merge some of the 100 before the
        // master sees them: with a load average of 18 on 2 cores it saw only 15 of the 100), and at most
        // one restart ever waited behind the running one.
        Assert.True(requested + coalesced <= 100, $"{requested + coalesced} signals handled, 100 sent");
        Assert.InRange(requested, 2, 10);
        Assert.True(coalesced >= 5, $"only {coalesced} requests coalesced: the storm did not exercise coalescing");
        Assert.Equal(requested + 1, generations);
        int pending = 0;
        foreach (string line in master.Lines)
        {
            if (line.Contains("Restart requested", StringComparison.Ordinal))
            {
                pending++;
                Assert.True(pending <= 2, "more than one restart was queued behind the running one:\n" + master.Output);
            }
            else if (line.Contains("Restart complete", StringComparison.Ordinal) || line.Contains("Restart rolled back", StringComparison.Ordinal))
            {
                pending--;
            }
        }

        // At most two generations at any sample, and the sampler did see the overlap of a restart.
        Assert.True(samples > 300, $"only {samples} samples");
        Assert.Null(overTwo);
        Assert.Equal(2, maxAlive);

        // Exactly one generation serves at the end: the last one, on the master's sockets.
        var last = Regex.Match(Faulty.Matches(master, @"Restart complete: generation \d+ \(pid (\d+)\)")[^1].Line, @"\(pid (\d+)\)");
        int lastPid = Faulty.Int(last.Groups[1]);
        Assert.Equal([lastPid], Proc.DirectChildren(master.Pid));
        Assert.Equal(ProcNet.ListeningSockets(master.Pid).Keys.Order(), ProcNet.ListeningSockets(lastPid).Keys.Order());
        for (int i = 0; i < 10; i++)
        {
            using var client = Http.CreateClient(address);
            Assert.Equal(lastPid, await Http.GetPidAsync(client));
        }
    }

    private static int Count(MasterProcess master, string pattern) => Faulty.Matches(master, pattern).Count;
}

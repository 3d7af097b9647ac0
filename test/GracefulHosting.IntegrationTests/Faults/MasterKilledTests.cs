using System.Net.Sockets;
using System.Text.Json.Nodes;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>
/// A master killed with SIGKILL cannot stop its children: each child must notice on its own (its end
/// of the control channel reads end-of-file) and exit, releasing the listening sockets.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class MasterKilledTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ChildExitBound = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task MasterSigkilled_ServingChildrenExitWithinTwoSecondsAndPortIsFree()
    {
        await using var master = MasterProcess.Start(output: output);
        var address = await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);
        master.Signal(Native.SIGHUP);
        int child = await master.WaitForRestartAsync(2);

        await master.WaitForLineAsync($@"Child generation 1 \(pid {first}\) exited");

        // The serving child holds an idle keep-alive connection, as it would in production.
        using var client = Http.CreateClient(address);
        Assert.Equal(child, await Http.GetPidAsync(client));
        var tree = Native.Descendants(master.Pid);
        Assert.True(tree.SequenceEqual([child]), $"descendants {string.Join(", ", tree)}; generation 1 was {first}, 2 is {child}. Output:\n{master.Output}");

        await AssertChildrenExitAfterMasterSigkillAsync(master, tree, address.Port);
    }

    /// <remarks>
    /// The new generation is still warming up (inside the app's <c>IHostedLifecycleService.StartingAsync</c>)
    /// when the master dies. It holds copies of the listening sockets, so until it exits the port stays taken.
    /// </remarks>
    [Fact]
    public async Task MasterSigkilled_StartingChildAlsoExitsWithinTwoSecondsAndPortIsFree()
    {
        using var copy = ExampleApp.CopyToTemp();
        await using var master = MasterProcess.Start(copy.Path, output: output);
        var address = await master.WaitForAddressAsync();
        int serving = await master.WaitForReadyAsync(1);

        Faulty.SetHelloOption(copy.Path, "WarmupMilliseconds", JsonValue.Create(60_000));
        master.Signal(Native.SIGHUP);
        int starting = Faulty.Int((await master.WaitForLineAsync(@"Started child generation 2 with pid (\d+)")).Groups[1]);
        await master.WaitForLineAsync("Warming up for 60000 ms");
        var tree = Native.Descendants(master.Pid);
        Assert.Equal([serving, starting], tree.Order());

        await AssertChildrenExitAfterMasterSigkillAsync(master, tree, address.Port);
    }

    private async Task AssertChildrenExitAfterMasterSigkillAsync(MasterProcess master, List<int> children, int port)
    {
        Assert.False(Proc.CanListenOn(port), "the port must be taken while the master lives");

        // Process.WaitForExitAsync would also wait for the end of the master's output, which the
        // children share: poll the pids instead. Times count from the SIGKILL.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        master.Signal(Native.SIGKILL);
        await Faulty.WaitUntilAsync(() => !Native.IsAlive(master.Pid), TimeSpan.FromSeconds(5), "the master's death");
        var exitedAfter = new Dictionary<int, TimeSpan>();
        while (exitedAfter.Count < children.Count && watch.Elapsed < ChildExitBound + TimeSpan.FromSeconds(10))
        {
            foreach (int pid in children.Where(p => !exitedAfter.ContainsKey(p) && !Native.IsAlive(p)))
            {
                exitedAfter[pid] = watch.Elapsed;
            }

            await Task.Delay(10);
        }

        output.WriteLine("child exits after the master's SIGKILL: " +
            string.Join(", ", children.Select(p => exitedAfter.TryGetValue(p, out var t) ? $"{p}: {t.TotalMilliseconds:0} ms" : $"{p}: alive")));
        foreach (int pid in children)
        {
            Assert.True(exitedAfter.TryGetValue(pid, out var after) && after <= ChildExitBound,
                $"child {pid} must exit within {ChildExitBound.TotalSeconds} s of its master's death; it took " +
                (exitedAfter.TryGetValue(pid, out var t) ? $"{t.TotalMilliseconds:0} ms" : "longer than 12 s") + $". Output:\n{master.Output}");
        }

        // No orphan: nothing that ran the app under this master is left, and the port is free again.
        var survivors = master.AllPids().Where(Native.IsAlive).ToList();
        Assert.True(survivors.Count == 0, $"processes left behind: {string.Join(", ", survivors)}");
        // A process shows as exited (a zombie) once its main thread has; its other threads, which share its
        // descriptors, may take a moment longer, so the port is waited for within the same bound.
        await Faulty.WaitUntilAsync(() => Proc.CanListenOn(port), ChildExitBound, $"port {port} to be free once the children have exited");
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(System.Net.IPAddress.Loopback, port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }
}

using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>A child inherits from the master its end of the control channel and nothing else; its listening sockets come over that channel.</summary>
/// <remarks>
/// The method. A descriptor crosses exec only if it lacks FD_CLOEXEC, and it keeps lacking it in the
/// new process until someone sets it. .NET opens every descriptor close-on-exec, a child sets
/// FD_CLOEXEC on the control descriptor its marker names as soon as it has checked it, and the
/// listening sockets it receives over the channel arrive close-on-exec. So in a running child, any descriptor without FD_CLOEXEC, other than stdio 0/1/2,
/// was inherited and never claimed: a leak. Two checks make this sound rather than assumed:
/// <list type="number">
/// <item>Baseline: the same app as a plain process (<c>GracefulRestart:Enabled=false</c>) has no
/// descriptor without FD_CLOEXEC besides 0/1/2 and whatever it inherited from this test process, so
/// the runtime, Kestrel, Serilog and the app create none themselves.</item>
/// <item>Identity: every socket or pipe the child shares with the master (same inode, read from
/// /proc/pid/fd) must be one of the master's listening sockets or a stdio pipe, and the control
/// descriptor must be an unnamed AF_UNIX SOCK_SEQPACKET socket. This catches a leaked socket or pipe
/// even if someone had marked it close-on-exec.</item>
/// </list>
/// The master is started through bash with two descriptors it does not know about, as a careless
/// parent (a shell script, a CI runner) would pass them: a regular file at fd 7 and a copy of the
/// stderr pipe at fd 8. The master holds them without FD_CLOEXEC; no child may get them.
/// </remarks>
public sealed class DescriptorInheritanceTests(ITestOutputHelper output)
{
    private const string StrayDescriptors = "exec 7<appsettings.json 8>&2; exec \"$@\"";

    [Fact]
    public async Task Child_InheritsOnlyListeningSocketsAndControlChannel_NotTheMastersOtherDescriptors()
    {
        await using var baseline = MasterProcess.Start(arguments: ["--GracefulRestart:Enabled=false"], output: output);
        await using var master = MasterProcess.Start(launcher: ["bash", "-c", StrayDescriptors, "graceful-stray-fds"], output: output);

        await baseline.WaitForLineAsync("Now listening on");
        var fromTest = Proc.InheritableDescriptors(Environment.ProcessId);
        var baselineOwn = Proc.InheritableDescriptors(baseline.Pid).Where(fd => fd > 2 && !fromTest.Contains(fd)).ToList();
        Assert.True(baselineOwn.Count == 0, $"the plain app opened descriptors without FD_CLOEXEC: {string.Join(", ", baselineOwn)}; the method does not hold");

        await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);
        var masterFds = Proc.Descriptors(master.Pid);
        Assert.EndsWith("/appsettings.json", masterFds[7], StringComparison.Ordinal);
        Assert.Equal(masterFds[2], masterFds[8]);

        AssertInheritedOnlyWhatIsMeant(master, first);

        // The same for a generation started by a restart, when the master has run for a while.
        master.Signal(Native.SIGHUP);
        int second = await master.WaitForRestartAsync(2);
        AssertInheritedOnlyWhatIsMeant(master, second);
    }

    private static void AssertInheritedOnlyWhatIsMeant(MasterProcess master, int child)
    {
        var childFds = Proc.Descriptors(child);
        var masterFds = Proc.Descriptors(master.Pid);

        // Nothing inherited and unclaimed.
        var inheritable = Proc.InheritableDescriptors(child);
        Assert.True(inheritable.SetEquals([0, 1, 2]),
            $"child {child} has descriptors without FD_CLOEXEC besides stdio, inherited and never claimed: " +
            string.Join(", ", inheritable.Where(fd => fd > 2).Select(fd => $"{fd}={childFds[fd]}")));

        // The child serves on exactly the master's listening sockets, and the marker names one unnamed packet socket.
        string marker = Proc.StartEnvironment(child)["GRACEFULHOSTING_CHILD"];
        var fields = marker.Split(';').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
        var masterListening = ProcNet.ListeningSockets(master.Pid).Keys.Order().ToList();
        Assert.Equal(masterListening, ProcNet.ListeningSockets(child).Keys.Order().ToList());

        int control = int.Parse(fields["control"], System.Globalization.CultureInfo.InvariantCulture);
        string controlInode = Proc.SocketInode(childFds[control]) ?? throw new InvalidOperationException($"control fd {control} is {childFds[control]}");
        Assert.True(Proc.UnixSockets().TryGetValue(controlInode, out var unix), $"control fd {control} is no AF_UNIX socket");
        Assert.Equal((5, ""), unix); // SOCK_SEQPACKET, no name

        // Shared with the master: only the listening sockets, and stdio (the runtime keeps its own
        // duplicates of 0/1/2, so their pipes show up under other numbers as well).
        var stdio = new[] { 0, 1, 2 }.Where(childFds.ContainsKey).Select(fd => childFds[fd]).ToHashSet();
        var masterObjects = masterFds.Values.Where(IsSocketOrPipe).ToHashSet();
        var shared = childFds.Where(f => IsSocketOrPipe(f.Value) && !stdio.Contains(f.Value) && masterObjects.Contains(f.Value))
            .Where(f => !masterListening.Contains(Proc.SocketInode(f.Value) ?? ""))
            .Select(f => $"{f.Key}={f.Value}")
            .ToList();
        Assert.True(shared.Count == 0, $"child {child} shares with the master: {string.Join(", ", shared)}");
    }

    /// <remarks>
    /// An app starts a helper (here <c>/bin/sleep 600</c>) first thing in Program.cs, before the host is
    /// built; the master runs that code too, so there are two helpers. The child's listening sockets come
    /// from the master later, close-on-exec, so no helper holds any of them: once the master has stopped,
    /// the port can be bound again, and neither helper holds a listening socket of any kind.
    /// </remarks>
    [Fact]
    public async Task HelperStartedBeforeTheHostIsBuilt_HoldsNoListeningSocketPortFreeOnceTheMasterStops()
    {
        using var held = new HeldPort();
        int port = held.Port;
        var helpers = new List<int>();
        try
        {
            await using var master = MasterProcess.Start(arguments: ["--setup=listen-loopback", $"--port={port}", "--early-process=/bin/sleep"],
                defaultEndpoint: false, app: "EndpointsApp", output: output);
            await master.WaitForReadyAsync(1);
            await Faulty.WaitUntilAsync(() => Faulty.Matches(master, @"Early process started with pid (\d+)").Count == 2, TimeSpan.FromSeconds(15),
                "the master's and the child's helper");
            helpers.AddRange(Faulty.Matches(master, @"Early process started with pid (\d+)").Select(m => Faulty.Int(m.Match.Groups[1])));

            master.Signal(Native.SIGTERM);
            Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the master did not exit");
            Assert.Equal(0, master.ExitCode);

            foreach (int helper in helpers)
            {
                Assert.True(Native.IsAlive(helper), "a helper outlives the app, as it would without the library");
                Assert.Empty(ProcNet.ListeningSockets(helper));
                Assert.Empty(ProcNet.ListeningUnixSockets(helper));
            }

            Assert.True(Proc.CanListenOn(port), $"port {port} must be free once the master has stopped");
        }
        finally
        {
            foreach (int helper in helpers)
            {
                Native.Kill(helper, Native.SIGKILL);
            }
        }
    }

    private static bool IsSocketOrPipe(string target) =>
        target.StartsWith("socket:[", StringComparison.Ordinal) || target.StartsWith("pipe:[", StringComparison.Ordinal);
}

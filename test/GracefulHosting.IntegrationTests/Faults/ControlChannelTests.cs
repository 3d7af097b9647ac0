using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>
/// The control channel between master and child is an unnamed socket pair: no other local process
/// can reach it, so none can make a child look ready.
/// </summary>
/// <remarks>
/// The attacker is this test process, another local process of the same user (root in CI). It sends
/// <c>READY=1</c> through every way in it can find for the master and its children: each unix socket
/// they hold that has a name (a path or an abstract name; in practice only the runtime's diagnostics
/// sockets), their socket descriptors reopened through /proc/pid/fd, and the master's TCP port; and it
/// checks that a child has no NOTIFY_SOCKET to be reached through. A master that
/// took readiness from a named or notify socket without checking the sender would fail this test.
/// It deliberately sends nothing to unix sockets of unrelated processes (other tests, system
/// services). Out of scope: a process that may ptrace the child (pidfd_getfd, /proc/pid/mem) owns it
/// anyway.
/// </remarks>
[Collection(SerialCollection.Name)]
public sealed class ControlChannelTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ForgedReadyFromAnotherProcess_IgnoredHungGenerationKilledAtStartTimeout()
    {
        using var copy = ExampleApp.CopyToTemp();
        await using var master = MasterProcess.Start(copy.Path, ["--GracefulRestart:StartTimeout=00:00:10"], output: output);
        var address = await master.WaitForAddressAsync();
        int serving = await master.WaitForReadyAsync(1);

        // Static: the child's end of the control channel is unnamed, and the only named sockets of master
        // and child are the runtime's own diagnostics sockets (/tmp/dotnet-diagnostic-<pid>-...), which
        // the library has nothing to do with, and the master's control socket for operators, which
        // speaks another protocol. They are attacked below all the same.
        Assert.Equal((5, ""), ControlSocket(serving));
        var named = NamedUnixSockets(master.Pid, serving);
        Assert.All(named, n => Assert.True(n == master.ControlSocket || Path.GetFileName(n).StartsWith("dotnet-diagnostic-", StringComparison.Ordinal), n));
        Assert.Throws<IOException>(() => OpenForWrite(serving, ControlFd(serving)));

        // A generation that never becomes ready by itself.
        Faulty.SetHelloOption(copy.Path, "WarmupMilliseconds", JsonValue.Create(600_000));
        master.Signal(Native.SIGHUP);
        int hung = Faulty.Int((await master.WaitForLineAsync(@"Started child generation 2 with pid (\d+)")).Groups[1]);
        await master.WaitForLineAsync("Warming up for 600000 ms");
        Assert.Equal((5, ""), ControlSocket(hung));
        Assert.False(Proc.StartEnvironment(hung).ContainsKey("NOTIFY_SOCKET"), "a child must not see NOTIFY_SOCKET");

        int rounds = 0, namedTargets = 0, reopened = 0, refusedReopens = 0, tcpForgeries = 0;
        while (!master.HasLine("Child generation 2 .*failed to start") && rounds < 200)
        {
            rounds++;
            foreach (string name in NamedUnixSockets(master.Pid, serving, hung))
            {
                namedTargets++;
                TrySendReady(name);
            }

            foreach (int pid in new[] { master.Pid, hung })
            {
                foreach (var (fd, target) in Proc.Descriptors(pid))
                {
                    if (Proc.SocketInode(target) is { } inode && Proc.UnixSockets().ContainsKey(inode))
                    {
                        try
                        {
                            using var stream = OpenForWrite(pid, fd);
                            stream.Write("READY=1\n"u8);
                            reopened++;
                        }
                        catch (IOException)
                        {
                            refusedReopens++; // ENXIO: a socket cannot be opened through /proc
                        }
                    }
                }
            }

            try
            {
                using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await tcp.ConnectAsync(Faulty.EndPoint(address));
                await tcp.SendAsync("READY=1\n"u8.ToArray());
                tcpForgeries++;
            }
            catch (SocketException)
            {
            }

            await Task.Delay(100);
        }

        output.WriteLine($"{rounds} rounds: {namedTargets} named unix sockets found, {reopened} /proc reopens succeeded, " +
            $"{refusedReopens} refused, {tcpForgeries} READY=1 sent to the TCP port");
        await master.WaitForLineAsync($@"Child generation 2 \(pid {hung}\) failed to start: it was not ready within GracefulRestart:StartTimeout \(00:00:10\)");
        await master.WaitForLineAsync($@"Restart rolled back: generation 1 \(pid {serving}\) keeps serving");
        Assert.False(master.HasLine(@"Child generation 2 \(pid \d+\) is ready"), "a forged READY=1 made the hung generation ready");
        Assert.Equal(0, reopened);
        Assert.True(rounds >= 10 && refusedReopens >= rounds * 2 && tcpForgeries >= 10 && namedTargets >= rounds,
            "the forgeries must actually have been attempted");
        Assert.Null(Native.ProcState(hung));
        using var client = Http.CreateClient(address);
        Assert.Equal(serving, await Http.GetPidAsync(client));
    }

    private static int ControlFd(int child)
    {
        string marker = Proc.StartEnvironment(child)["GRACEFULHOSTING_CHILD"];
        string control = marker.Split(';').Single(p => p.StartsWith("control=", StringComparison.Ordinal))["control=".Length..];
        return int.Parse(control, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The type and bound name of a child's end of its control channel, from /proc/net/unix.</summary>
    private static (int Type, string Name) ControlSocket(int child)
    {
        string target = Proc.Descriptors(child)[ControlFd(child)];
        string inode = Proc.SocketInode(target) ?? throw new InvalidOperationException($"the control descriptor is {target}");
        return Proc.UnixSockets()[inode];
    }

    /// <summary>Names (paths or @abstract) of the unix sockets the given processes hold.</summary>
    private static List<string> NamedUnixSockets(params int[] pids)
    {
        var unix = Proc.UnixSockets();
        return [.. pids.SelectMany(pid => Proc.Descriptors(pid).Values)
            .Select(Proc.SocketInode)
            .Where(inode => inode is not null && unix.TryGetValue(inode, out var s) && s.Name.Length > 0)
            .Select(inode => unix[inode!].Name)
            .Distinct()];
    }

    private static FileStream OpenForWrite(int pid, int fd) => new($"/proc/{pid}/fd/{fd}", FileMode.Open, FileAccess.Write);

    private static void TrySendReady(string name)
    {
        var endPoint = new UnixDomainSocketEndPoint(name.StartsWith('@') ? "\0" + name[1..] : name);
        foreach (var type in new[] { SocketType.Dgram, SocketType.Seqpacket, SocketType.Stream })
        {
            try
            {
                using var socket = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
                socket.Connect(endPoint);
                socket.Send(Encoding.ASCII.GetBytes("READY=1\n"));
            }
            catch (SocketException)
            {
            }
        }
    }
}

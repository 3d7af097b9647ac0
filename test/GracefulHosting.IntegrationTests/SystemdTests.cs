using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>
/// systemd integration with real tools: socket activation through <c>systemd-socket-activate</c>
/// (Debian package systemd) and a notify socket bound by the test.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class SystemdTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SocketActivation_Master_ServesOnPassedSocketAndRestartsWithoutFailures()
    {
        using var held = new HeldPort();
        int port = held.Port;
        await using var master = MasterProcess.Start(launcher: ["systemd-socket-activate", "-l", $"127.0.0.1:{port}", "--fdname=Http"], output: output);
        await WaitForActivatorAsync(master, 1);
        var address = new Uri($"http://127.0.0.1:{port}/");
        using var client = Http.CreateClient(address);

        // systemd-socket-activate starts the app on the first connection.
        int first = await Http.GetPidAsync(client);
        await master.WaitForLineAsync($@"Listening on 127\.0\.0\.1:{port} from systemd \(fd 3, name Http\) for http://127\.0\.0\.1:{port}, matched by name \(Kestrel:Endpoints:Http\)");

        int last = first;
        await using (var load = new KeepAliveLoad(address, clients: 4))
        {
            await load.WaitForPidAsync(first, TimeSpan.FromSeconds(15));
            for (int generation = 2; generation <= 3; generation++)
            {
                master.Signal(Native.SIGHUP);
                last = await master.WaitForRestartAsync(generation);
                await load.WaitForPidAsync(last, TimeSpan.FromSeconds(15));
            }

            await load.StopAsync();
            Assert.Empty(load.Failures);
            Assert.True(load.Succeeded > 20);
        }

        // The serving generation, not one that answered while it drained.
        Assert.Equal(last, await Http.WaitForPidAsync(client, p => p == last, TimeSpan.FromSeconds(15)));
        var masterSockets = ProcNet.ListeningSockets(master.Pid);
        Assert.Equal([port], masterSockets.Values.Select(e => e.Port).ToArray());
        Assert.Equal(masterSockets.Keys.Order(), ProcNet.ListeningSockets(last).Keys.Order());
        Assert.False(master.HasLine(@"Listening on \S+ for http"), "the master must bind nothing itself");
    }

    [Fact]
    public async Task SocketActivation_FdNames_MatchTwoEndpointsByName()
    {
        using var heldHttp = new HeldPort();
        using var heldSecond = new HeldPort();
        int httpPort = heldHttp.Port;
        int secondPort = heldSecond.Port;
        // The configured URLs differ from the sockets' addresses: only the names can match them.
        await using var master = MasterProcess.Start(
            arguments: ["--Kestrel:Endpoints:Second:Url=http://127.0.0.1:1"],
            launcher: ["systemd-socket-activate", "-l", $"127.0.0.1:{secondPort}", "-l", $"127.0.0.1:{httpPort}", "--fdname=Second:Http"], output: output);
        await WaitForActivatorAsync(master, 2);
        using var httpClient = Http.CreateClient(new Uri($"http://127.0.0.1:{httpPort}/"));
        using var secondClient = Http.CreateClient(new Uri($"http://127.0.0.1:{secondPort}/"));

        int child = await Http.GetPidAsync(httpClient);
        Assert.Equal(child, await Http.GetPidAsync(secondClient));
        await master.WaitForLineAsync($@"127\.0\.0\.1:{secondPort} from systemd \(fd 3, name Second\) for http://127\.0\.0\.1:{secondPort}, matched by name \(Kestrel:Endpoints:Second\)");
        await master.WaitForLineAsync($@"127\.0\.0\.1:{httpPort} from systemd \(fd 4, name Http\) for http://127\.0\.0\.1:{httpPort}, matched by name \(Kestrel:Endpoints:Http\)");
    }

    [Fact]
    public async Task SocketActivation_EndpointWithoutSocket_ExitsNonZeroSayingHowToFixTheUnits()
    {
        using var held = new HeldPort();
        int port = held.Port;
        await using var master = MasterProcess.Start(launcher: ["systemd-socket-activate", "-l", $"127.0.0.1:{port}"],
            arguments: ["--Kestrel:Endpoints:Http:Url=http://127.0.0.1:1"], defaultEndpoint: false, output: output);
        await WaitForActivatorAsync(master, 1);
        using var client = Http.CreateClient(new Uri($"http://127.0.0.1:{port}/"));

        // The configured endpoint has no socket, so the master refuses to start rather than bind it.
        var exited = master.WaitForExitAsync(TimeSpan.FromSeconds(30));
        _ = Http.GetPidAsync(client).ContinueWith(_ => { }, TaskScheduler.Default);
        Assert.True(await exited);
        Assert.NotEqual(0, master.ExitCode);
        Assert.Contains($"Kestrel asked for 127.0.0.1:1 (Kestrel:Endpoints:Http:Url = 'http://127.0.0.1:1'), but systemd passed no socket for it (it passed 127.0.0.1:{port})",
            master.Output, StringComparison.Ordinal);
        Assert.Contains("FileDescriptorName=", master.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SocketActivation_AppNamesNoEndpoints_SocketsBecomeItsUrlsAndNothingElseIsBound()
    {
        using var held = new HeldPort();
        int port = held.Port;
        using var copy = ExampleApp.CopyToTemp();
        ExampleApp.RemoveKestrelSection(copy.Path);
        await using var master = MasterProcess.Start(copy.Path, launcher: ["systemd-socket-activate", "-l", $"127.0.0.1:{port}"], defaultEndpoint: false);
        await WaitForActivatorAsync(master, 1);
        using var client = Http.CreateClient(new Uri($"http://127.0.0.1:{port}/"));

        int pid = await Http.GetPidAsync(client);

        Assert.NotEqual(master.Pid, pid);
        Assert.True(master.HasLine($@"The app names no URLs or endpoints of its own, so Kestrel serves on the sockets systemd passed: http://127\.0\.0\.1:{port}"), master.Output);
        await master.WaitForLineAsync($@"Listening on 127\.0\.0\.1:{port} from systemd \(fd 3, name -\) for http://127\.0\.0\.1:{port}, matched by address");
        // Kestrel's default (localhost:5000) is not bound: only systemd's socket listens.
        Assert.Equal([port], ProcNet.ListeningSockets(master.Pid).Values.Select(e => e.Port).ToArray());
    }

    [Fact]
    public async Task SocketActivation_SocketNoEndpointAsksFor_NotServedWithWarning()
    {
        using var held = new HeldPort();
        int port = held.Port;
        using var heldExtra = new HeldPort();
        int extraPort = heldExtra.Port;
        await using var master = MasterProcess.Start(
            launcher: ["systemd-socket-activate", "-l", $"127.0.0.1:{port}", "-l", $"127.0.0.1:{extraPort}", "--fdname=Http:Extra"]);
        await WaitForActivatorAsync(master, 2);
        using var client = Http.CreateClient(new Uri($"http://127.0.0.1:{port}/"));

        int pid = await Http.GetPidAsync(client);

        await master.WaitForLineAsync($@"systemd passed 127\.0\.0\.1:{extraPort} \(fd 4, name Extra\), but Kestrel asks for no endpoint it matches, so it is not served");
        Assert.Equal([port], ProcNet.ListeningSockets(pid).Values.Select(e => e.Port).ToArray());
    }

    [Fact]
    public async Task SocketActivation_UnixSocket_ServedAcrossRestartsAndItsFileLeftToSystemd()
    {
        using var copy = ExampleApp.CopyToTemp();
        ExampleApp.RemoveKestrelSection(copy.Path);
        string path = Path.Combine(copy.Path, "app.sock");
        await using var master = MasterProcess.Start(copy.Path, launcher: ["systemd-socket-activate", "-l", path], defaultEndpoint: false);
        await WaitForActivatorAsync(master, 1);
        var server = new UnixDomainSocketEndPoint(path);
        using (var first = new KeepAliveClient(server))
        {
            // systemd-socket-activate starts the app on the first connection.
            var (status, _, _) = await first.GetAsync("/", CancellationToken.None);
            Assert.Equal(200, status);
        }

        await master.WaitForLineAsync($@"Listening on unix:{Regex.Escape(path)} from systemd \(fd 3, name -\) for http://unix:{Regex.Escape(path)}, matched by address");
        await using (var load = new KeepAliveLoad(server, clients: 3))
        {
            master.Signal(Native.SIGHUP);
            int second = await master.WaitForRestartAsync(2);
            await master.WaitForLineAsync(@"Child generation 1 \(pid \d+\) exited");
            await load.StopAsync();
            Assert.Empty(load.Failures);
            Assert.Contains(second, load.Pids);
        }

        master.Signal(Native.SIGTERM);
        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, master.ExitCode);
        Assert.True(File.Exists(path), "the socket file is systemd's: the master leaves it");
    }

    /// <remarks>Without a master, the app itself answers systemd: READY=1, STOPPING=1 and, with <c>WatchdogSec=</c>, the watchdog.</remarks>
    [Fact]
    public async Task DirectMode_UnderSocketActivation_ServesInProcessWithoutMasterAndPingsTheWatchdog()
    {
        using var held = new HeldPort();
        int port = held.Port;
        using var notify = new NotifyReceiver();
        await using var app = MasterProcess.Start(
            arguments: ["--GracefulRestart:Mode=Direct", "--GracefulRestart:ExitTimeout=00:00:05"],
            launcher: ["systemd-socket-activate", "-l", $"127.0.0.1:{port}", "--fdname=Http", "-E", $"NOTIFY_SOCKET={notify.Address}",
                "-E", "WATCHDOG_USEC=400000"], output: output);
        await WaitForActivatorAsync(app, 1);
        using var client = Http.CreateClient(new Uri($"http://127.0.0.1:{port}/"));

        Assert.Equal(app.Pid, await Http.GetPidAsync(client));
        Assert.Empty(Native.Descendants(app.Pid));
        await notify.WaitForAsync(m => m.Any(x => x.StartsWith("READY=1", StringComparison.Ordinal)), TimeSpan.FromSeconds(15));
        await notify.WaitForAsync(m => m.Count(x => x == "WATCHDOG=1") >= 3, TimeSpan.FromSeconds(10));

        app.Signal(Native.SIGTERM);
        Assert.True(await app.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(0, app.ExitCode);
        await notify.WaitForAsync(m => m.Any(x => x.StartsWith("STOPPING=1", StringComparison.Ordinal)), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task DirectMode_WithoutSystemdSockets_ExitsNonZeroNamingTheSetting()
    {
        await using var app = MasterProcess.Start(arguments: ["--GracefulRestart:Mode=Direct"], output: output);

        Assert.True(await app.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotEqual(0, app.ExitCode);
        Assert.Contains("GracefulRestart:Mode=Direct", app.Output, StringComparison.Ordinal);
        Assert.Contains("LISTEN_FDS", app.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Notify_StartReloadFailedReloadStop_ExactSequence(bool abstractSocket)
    {
        using var notify = new NotifyReceiver(abstractSocket);
        using var copy = ExampleApp.CopyToTemp();
        await using var master = MasterProcess.Start(copy.Path, environment: new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = notify.Address }, output: output);
        await master.WaitForReadyAsync(1);
        await notify.WaitForAsync(m => m.Count >= 1, TimeSpan.FromSeconds(15));

        long before = MonotonicMicroseconds();
        master.Signal(Native.SIGHUP);
        int second = await master.WaitForRestartAsync(2);
        await notify.WaitForAsync(m => m.Count >= 3, TimeSpan.FromSeconds(15));

        string settings = Path.Combine(copy.Path, "appsettings.json");
        await File.WriteAllTextAsync(settings, "{ broken");
        master.Signal(Native.SIGHUP);
        await master.WaitForLineAsync("Restart rolled back");
        await notify.WaitForAsync(m => m.Count(x => x.StartsWith("READY=1", StringComparison.Ordinal)) >= 3, TimeSpan.FromSeconds(15));

        master.Signal(Native.SIGTERM);
        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await notify.WaitForAsync(m => m.Any(x => x.StartsWith("STOPPING=1", StringComparison.Ordinal)), TimeSpan.FromSeconds(5));

        Assert.Equal(["READY=1", "RELOADING=1", "READY=1", "RELOADING=1", "READY=1", "STOPPING=1"], notify.StateChanges);
        var messages = notify.Messages.Where(m => !m.StartsWith("STATUS=", StringComparison.Ordinal)).ToList();
        Assert.Contains("STATUS=Generation 1 (pid ", messages[0], StringComparison.Ordinal);
        long reloadAt = long.Parse(messages[1].Split('\n').Single(l => l.StartsWith("MONOTONIC_USEC=", StringComparison.Ordinal))[15..], CultureInfo.InvariantCulture);
        Assert.InRange(reloadAt, before, MonotonicMicroseconds());
        Assert.Contains($"STATUS=Generation 2 (pid {second}) serving", messages[2], StringComparison.Ordinal);
        Assert.Contains("STATUS=Reload failed: generation 3", messages[4], StringComparison.Ordinal);
        Assert.Contains($"rolled back, Generation 2 (pid {second}) serving", messages[4], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Notify_WatchdogUsecSet_MasterPingsWatchdog()
    {
        using var notify = new NotifyReceiver();
        await using var master = MasterProcess.Start(environment: new Dictionary<string, string?>
        {
            ["NOTIFY_SOCKET"] = notify.Address,
            ["WATCHDOG_USEC"] = "400000",
        }, output: output);
        await master.WaitForReadyAsync(1);

        await notify.WaitForAsync(m => m.Count(x => x == "WATCHDOG=1") >= 3, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Children_NeverSeeSystemdVariables()
    {
        using var notify = new NotifyReceiver();
        using var held = new HeldPort();
        int port = held.Port;
        await using var master = MasterProcess.Start(launcher:
            ["systemd-socket-activate", "-l", $"127.0.0.1:{port}", "--fdname=Http", "-E", $"NOTIFY_SOCKET={notify.Address}", "-E", "WATCHDOG_USEC=60000000"], output: output);
        await WaitForActivatorAsync(master, 1);
        using var client = Http.CreateClient(new Uri($"http://127.0.0.1:{port}/"));
        int child = await Http.GetPidAsync(client);

        string environ = await File.ReadAllTextAsync($"/proc/{child}/environ");
        foreach (string name in new[] { "LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=", "NOTIFY_SOCKET=", "WATCHDOG_USEC=" })
        {
            Assert.DoesNotContain("\0" + name, "\0" + environ, StringComparison.Ordinal);
        }

        Assert.Contains("\0GRACEFULHOSTING_CHILD=", "\0" + environ, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SocketActivation_WrongListenPid_IgnoredWithReasonAndConfiguredEndpointBound()
    {
        await using var master = MasterProcess.Start(environment: new Dictionary<string, string?>
        {
            ["LISTEN_PID"] = "1",
            ["LISTEN_FDS"] = "1",
            ["LISTEN_FDNAMES"] = "Http",
        }, output: output);
        var address = await master.WaitForAddressAsync();
        int child = await master.WaitForReadyAsync(1);

        Assert.True(master.HasLine(@"Ignoring systemd socket activation: LISTEN_PID=1 names another process, not this one \(\d+\)"));
        using var client = Http.CreateClient(address);
        Assert.Equal(child, await Http.GetPidAsync(client));
    }

    /// <summary>systemd-socket-activate prints "Listening on ADDRESS as FD." once per socket before it waits.</summary>
    private static Task WaitForActivatorAsync(MasterProcess process, int sockets) =>
        process.WaitForLineAsync($@"Listening on \S+ as {sockets + 2}\.");


    private static long MonotonicMicroseconds() =>
        (long)(System.Diagnostics.Stopwatch.GetTimestamp() * (1_000_000.0 / System.Diagnostics.Stopwatch.Frequency));

}

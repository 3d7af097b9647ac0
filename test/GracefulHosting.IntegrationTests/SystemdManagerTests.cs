using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>
/// The example's own systemd units under a real service manager: a private <c>systemd --user</c>
/// (see <see cref="UserManager"/>) socket-activates, reloads, restarts, watches and stops the
/// HelloGraceful master while clients that never retry send requests, and no request fails.
/// The units are the files users copy from examples/systemd, changed only where
/// <see cref="HelloGracefulUnits"/> says why.
/// </summary>
[Collection(SystemdManagerCollection.Name)]
public sealed class SystemdManagerTests(HelloGracefulUnderSystemd fixture, ITestOutputHelper output)
    : IClassFixture<HelloGracefulUnderSystemd>, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly long _logStart = fixture.LogLength;

    private UserManager Manager => fixture.Manager;

    [UserManagerFact]
    public async Task StartSocket_FirstRequest_StartsServiceAtGenerationOne()
    {
        await fixture.StopAllAsync();
        await fixture.StartSocketAsync();
        var idle = await Manager.ShowAsync(HelloGracefulUnits.Service, "ActiveState", "MainPID");
        Assert.Equal("inactive", idle["ActiveState"]);
        // Only the manager listens: nothing of the app runs yet.
        Assert.Contains(fixture.Port, ProcNet.ListeningSockets(Manager.Pid).Values.Select(e => e.Port));

        await using var load = new KeepAliveLoad(fixture.EndPoint);
        var serving = await fixture.WaitForGenerationAsync(1);
        await load.WaitForPidAsync(serving.Child, Timeout);
        await load.StopAsync();

        Assert.Empty(load.Failures);
        Assert.Equal([serving.Child], load.Pids);
        var status = await Manager.ShowAsync(HelloGracefulUnits.Service, "ActiveState", "StatusText");
        Assert.Equal("active", status["ActiveState"]);
        Assert.Equal($"Generation 1 (pid {serving.Child}) serving", status["StatusText"]);
        Assert.Contains($"Listening on 127.0.0.1:{fixture.Port} from systemd (fd 3, name Http)", fixture.LogSince(_logStart), StringComparison.Ordinal);
    }

    [UserManagerFact]
    public async Task Reload_FiveTimesUnderLoad_SameMainPidNewChildEachTimeNoFailure()
    {
        var start = await fixture.EnsureServingAsync();
        await using var load = new KeepAliveLoad(fixture.EndPoint);
        await load.WaitForPidAsync(start.Child, Timeout);

        var children = new List<int> { start.Child };
        for (int reload = 1; reload <= 5; reload++)
        {
            await Manager.SystemctlCheckedAsync("reload", HelloGracefulUnits.Service);
            var now = await fixture.WaitForGenerationAsync(start.Generation + reload);
            Assert.Equal(start.MainPid, now.MainPid);
            Assert.DoesNotContain(now.Child, children);
            children.Add(now.Child);
            await load.WaitForPidAsync(now.Child, Timeout);
        }

        await load.StopAsync();
        Assert.Empty(load.Failures);
        Assert.Equal(children, load.Pids);
        var after = await Manager.ShowAsync(HelloGracefulUnits.Service, "MainPID", "NRestarts", "StatusText");
        Assert.Equal(start.MainPid, after.Int("MainPID"));
        Assert.Equal(start.Restarts, after.Int("NRestarts"));
        Assert.Equal($"Generation {start.Generation + 5} (pid {children[^1]}) serving", after["StatusText"]);
    }

    [UserManagerFact]
    public async Task Reload_BrokenThenFixedBuild_ReloadFailsThenSucceedsOldChildServesMeanwhile()
    {
        var start = await fixture.EnsureServingAsync();
        await using var load = new KeepAliveLoad(fixture.EndPoint);
        await load.WaitForPidAsync(start.Child, Timeout);

        UnitProperties failed;
        try
        {
            // A deploy whose build fails at start-up: the next generation cannot start, and whoever
            // deployed learns it: systemctl reload fails, and the journal says why. (A file that is not
            // even JSON fails the reload as well, earlier: the reload command is that build too.)
            Faults.Faulty.SetHelloOption(fixture.AppDirectory, "ThrowOnStartup", System.Text.Json.Nodes.JsonValue.Create(true));
            var (exitCode, reloadOutput) = await Manager.SystemctlAsync("reload", HelloGracefulUnits.Service);
            Assert.True(exitCode != 0, $"systemctl reload must fail for a rolled-back reload: {reloadOutput}");
            failed = await Manager.WaitForAsync(HelloGracefulUnits.Service, ["ActiveState", "MainPID", "StatusText"],
                p => p["ActiveState"] == "active" && p["StatusText"].StartsWith("Reload failed", StringComparison.Ordinal),
                Timeout, "a rolled back reload");
            Assert.Matches($@"ERROR generation {start.Generation + 1} it exited before it was ready .*; rolled back, Generation {start.Generation} \(pid {start.Child}\) serving",
                fixture.LogSince(_logStart));
            int before = load.Succeeded;
            await load.WaitForPidAsync(start.Child, Timeout, more: 50);
            Assert.True(load.Succeeded >= before + 50, "the old generation should go on serving");
        }
        finally
        {
            fixture.RestoreAppSettings();
        }

        // The fixed build reloads, and systemctl reload succeeds.
        await Manager.SystemctlCheckedAsync("reload", HelloGracefulUnits.Service);
        var fixedBuild = await fixture.WaitForGenerationAsync(start.Generation + 2);
        await load.WaitForPidAsync(fixedBuild.Child, Timeout);

        await load.StopAsync();
        Assert.Empty(load.Failures);
        Assert.Equal([start.Child, fixedBuild.Child], load.Pids);
        Assert.Equal(start.MainPid, failed.Int("MainPID"));
        Assert.Contains($"generation {start.Generation + 1}", failed["StatusText"], StringComparison.Ordinal);
        Assert.EndsWith($"rolled back, Generation {start.Generation} (pid {start.Child}) serving", failed["StatusText"], StringComparison.Ordinal);
    }

    [UserManagerFact]
    public async Task Restart_WithSocketUnit_NewMasterNoFailure()
    {
        var start = await fixture.EnsureServingAsync();
        await using var load = new KeepAliveLoad(fixture.EndPoint);
        await load.WaitForPidAsync(start.Child, Timeout);

        // systemd stops the whole service and starts it again; its socket unit keeps the listening
        // socket open meanwhile, so connections wait in the backlog instead of being refused.
        await Manager.SystemctlCheckedAsync("restart", HelloGracefulUnits.Service);

        await AssertNewMasterServesWithoutFailureAsync(start, load);
    }

    [UserManagerFact]
    public async Task Stop_UnderLoad_ResultSuccessExitZeroNothingLeftInCgroup()
    {
        var start = await fixture.EnsureServingAsync();
        string controlGroup = (await Manager.ShowAsync(HelloGracefulUnits.Service, "ControlGroup"))["ControlGroup"];
        Assert.Contains(start.Child, UserManager.CgroupProcesses(controlGroup));
        await using var load = new KeepAliveLoad(fixture.EndPoint);
        await load.WaitForPidAsync(start.Child, Timeout);

        // With its socket unit listening, systemd would start the service again for the next
        // connection; so the socket goes first. The service keeps serving on its own copy.
        await Manager.SystemctlCheckedAsync("stop", HelloGracefulUnits.Socket);
        await load.WaitForPidAsync(start.Child, Timeout, more: 50);
        var stopping = DateTime.UtcNow;
        await Manager.SystemctlCheckedAsync("stop", HelloGracefulUnits.Service);
        await load.StopAsync();

        var stopped = await Manager.ShowAsync(HelloGracefulUnits.Service, "ActiveState", "Result", "ExecMainCode", "ExecMainStatus");
        Assert.Equal("inactive", stopped["ActiveState"]);
        Assert.Equal("success", stopped["Result"]);
        Assert.Equal("1", stopped["ExecMainCode"]); // CLD_EXITED: the master exited rather than being killed
        Assert.Equal(0, stopped.Int("ExecMainStatus"));
        Assert.Empty(UserManager.CgroupProcesses(controlGroup));
        Assert.False(Native.IsAlive(start.MainPid), $"master {start.MainPid} still runs");
        Assert.False(Native.IsAlive(start.Child), $"child {start.Child} still runs");
        // No connection the service had answered on was cut: each got Connection: close with its last
        // answer. Connections made after the child stopped accepting wait in the backlog until the
        // master closes the socket on exit (reset), or are refused after that; nothing can serve them
        // once service and socket stop together.
        var cut = load.Failures.Where(f => !f.NewConnection || f.At < stopping).ToList();
        Assert.True(cut.Count == 0, "requests lost on served connections: " + string.Join("; ", cut));
        Assert.Equal([start.Child], load.Pids);
        output.WriteLine($"{load.Succeeded} requests answered; after the stop began, new connections failed {load.Failures.Count} times");
    }

    [UserManagerFact]
    public async Task Watchdog_ThreeIntervalsUnderLoad_PingedAndNotKilled()
    {
        var start = await fixture.EnsureServingAsync();
        await using var load = new KeepAliveLoad(fixture.EndPoint);
        await load.WaitForPidAsync(start.Child, Timeout);

        var pings = new HashSet<long>();
        string[] properties = ["ActiveState", "MainPID", "NRestarts", "WatchdogUSec", "WatchdogTimestampMonotonic"];
        var watch = Stopwatch.StartNew();
        // Waiting is the point here: the watchdog would kill the master after one missed interval.
        while (watch.Elapsed < 3 * HelloGracefulUnits.WatchdogInterval)
        {
            var now = await Manager.ShowAsync(HelloGracefulUnits.Service, properties);
            Assert.Equal($"{HelloGracefulUnits.WatchdogInterval.TotalSeconds}s", now["WatchdogUSec"]);
            Assert.Equal("active", now["ActiveState"]);
            Assert.Equal(start.MainPid, now.Int("MainPID"));
            Assert.Equal(start.Restarts, now.Int("NRestarts"));
            pings.Add(long.Parse(now["WatchdogTimestampMonotonic"], System.Globalization.CultureInfo.InvariantCulture));
            await Task.Delay(100);
        }

        await load.StopAsync();
        Assert.Empty(load.Failures);
        Assert.Equal([start.Child], load.Pids);
        // The master pings at half the interval: about six pings in three intervals.
        Assert.True(pings.Count >= 4, $"only {pings.Count} watchdog pings seen in {watch.Elapsed}");
    }

    [UserManagerFact]
    public async Task MasterSigkilled_SystemdRestartsIt_NoRequestFails()
    {
        var start = await fixture.EnsureServingAsync();
        await using var load = new KeepAliveLoad(fixture.EndPoint);
        await load.WaitForPidAsync(start.Child, Timeout);

        Native.Kill(start.MainPid, Native.SIGKILL);
        // Restart=on-failure after RestartSec=2; the old child drains first, requests wait in the backlog.
        await Manager.WaitForAsync(HelloGracefulUnits.Service, ["NRestarts"],
            p => p.Int("NRestarts") == start.Restarts + 1, Timeout, "an automatic restart");

        await AssertNewMasterServesWithoutFailureAsync(start, load);
    }

    /// <summary>A new master serves generation 1, the load moved to it from the old child, and no request failed.</summary>
    private async Task AssertNewMasterServesWithoutFailureAsync(Serving start, KeepAliveLoad load)
    {
        var now = await fixture.WaitForGenerationAsync(1);
        await load.WaitForPidAsync(now.Child, Timeout);
        await load.StopAsync();

        Assert.NotEqual(start.MainPid, now.MainPid);
        Assert.Empty(load.Failures);
        Assert.Equal([start.Child, now.Child], load.Pids);
        Assert.False(Native.IsAlive(start.MainPid), $"old master {start.MainPid} still runs");
        Assert.False(Native.IsAlive(start.Child), $"old child {start.Child} still runs");
    }

    /// <summary>Both forms as the test generates them parse cleanly; systemd before 253 names only the two newer settings.</summary>
    [Fact]
    public async Task GeneratedUnits_BothForms_SystemdAnalyzeVerifyPasses()
    {
        int version = UserManager.SystemdVersion;
        foreach (bool notifyReload in new[] { false, true })
        {
            using var temp = new TempDirectory();
            await File.WriteAllTextAsync(Path.Combine(temp.Path, HelloGracefulUnits.Service),
                HelloGracefulUnits.ServiceText(ExampleApp.OutputDirectory, Path.Combine(temp.Path, "log"), notifyReload));
            await File.WriteAllTextAsync(Path.Combine(temp.Path, HelloGracefulUnits.Socket), HelloGracefulUnits.SocketText(8080));

            var (exitCode, text) = await ToolProcess.RunAsync("systemd-analyze",
                ["verify", Path.Combine(temp.Path, HelloGracefulUnits.Socket), Path.Combine(temp.Path, HelloGracefulUnits.Service)],
                temp.Path, UserManager.CommandTimeout);

            Assert.Equal(0, exitCode);
            var complaints = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => version >= 253 || !(l.Contains("notify-reload", StringComparison.Ordinal) || l.Contains("'ReloadSignal'", StringComparison.Ordinal)))
                .ToList();
            Assert.True(complaints.Count == 0, $"systemd {version}, notify-reload form {notifyReload}: {string.Join('\n', complaints)}");
        }
    }

    /// <summary>The service's log lines of this test, for the test output (shown when it fails).</summary>
    public void Dispose()
    {
        if (fixture.Started)
        {
            output.WriteLine(fixture.LogSince(_logStart));
        }
    }
}

/// <summary>The manager tests run alone: they count pids and restarts of one service and time a watchdog.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SystemdManagerCollection
{
    public const string Name = "systemd user manager (serial)";
}

/// <summary>
/// A fact that needs a private systemd user manager: skipped, with the reason, where none can run
/// (no systemd or unshare, not root). On systemd older than 253, Type=notify-reload cannot run; that
/// unit form is checked with systemd-analyze verify only.
/// </summary>
public sealed class UserManagerFactAttribute : FactAttribute
{
    public UserManagerFactAttribute()
    {
        Skip = UserManager.MissingReason;
    }
}

/// <summary>
/// The example's units as users install them from examples/systemd, with only the changes a test
/// run needs. Each change fails loudly if the shipped file no longer has the text it replaces.
/// </summary>
internal static class HelloGracefulUnits
{
    public const string Service = "hello-graceful.service";
    public const string Socket = "hello-graceful.socket";

    public static readonly TimeSpan WatchdogInterval = TimeSpan.FromSeconds(2);

    public static string ServiceText(string appDirectory, string logFile, bool notifyReload)
    {
        string unit = Read(Service);
        // The test's copy of the built example instead of the install folder /opt/hello-graceful.
        unit = Edit(unit, "/opt/hello-graceful", appDirectory);
        // A user manager runs its units as its own user: DynamicUser= belongs to the system manager
        // (and a dynamic user could not reach the user manager's notify socket in its private runtime folder).
        unit = Edit(unit, "DynamicUser=yes\n", "");
        // A short watchdog, so that three intervals pass in seconds.
        unit = Edit(unit, "WatchdogSec=30\n", $"WatchdogSec={WatchdogInterval.TotalSeconds}\n");
        // No journald here: master and children write to a file, which the test prints when it fails.
        unit = Edit(unit, "[Service]\n", $"[Service]\nStandardOutput=append:{logFile}\nStandardError=inherit\n");
        if (notifyReload)
        {
            // The form for systemd 253 and later that the unit's comment describes.
            unit = Edit(unit, "Type=notify\n", "Type=notify-reload\nReloadSignal=SIGHUP\n");
            unit = Edit(unit, $"ExecReload=/usr/bin/dotnet {appDirectory}/HelloGraceful.dll --graceful reload\n", "");
        }

        return unit;
    }

    // A free port instead of 8080. The master matches the socket to Kestrel:Endpoints:Http by its
    // FileDescriptorName, so appsettings.json keeps its own URL.
    public static string SocketText(int port) => Edit(Read(Socket), "ListenStream=127.0.0.1:8080\n", $"ListenStream=127.0.0.1:{port}\n");

    private static string Read(string unit) => File.ReadAllText(Path.Combine(ExampleApp.RepositoryRoot, "examples", "systemd", unit));

    private static string Edit(string unit, string text, string replacement) =>
        unit.Contains(text, StringComparison.Ordinal)
            ? unit.Replace(text, replacement, StringComparison.Ordinal)
            : throw new InvalidOperationException($"The shipped unit no longer contains '{text.TrimEnd()}'; update the test's edits.");
}

/// <summary>
/// One private systemd user manager for the class, with the example's units installed, a private
/// copy of the example (which a test may break and restore), and a free port for the socket unit.
/// </summary>
public sealed partial class HelloGracefulUnderSystemd : IAsyncLifetime
{
    private const string PinTarget = "hello-graceful-pin.target";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private UserManager? _manager;

    internal UserManager Manager => _manager ?? throw new InvalidOperationException(UserManager.MissingReason ?? "The manager did not start.");

    internal bool Started => _manager is not null;

    public int Port { get; private set; }

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    internal string AppDirectory => Path.Combine(Manager.Root, "app");

    internal string AppSettings => Path.Combine(AppDirectory, "appsettings.json");

    private string LogFile => Path.Combine(Manager.Root, "hello-graceful.log");

    internal long LogLength => _manager is not null && File.Exists(LogFile) ? new FileInfo(LogFile).Length : 0;

    public async Task InitializeAsync()
    {
        if (UserManager.MissingReason is not null)
        {
            return;
        }

        _manager = await UserManager.StartAsync();
        // A copy outside /tmp, which PrivateTmp=yes hides from the service.
        ExampleApp.CopyTo(AppDirectory);

        // systemd unloads a unit that is inactive and that no loaded unit refers to, and with it the
        // Result and exit status of its last run. This target refers to the service (After=, which
        // starts nothing), so that a test can read them after stopping service and socket.
        await File.WriteAllTextAsync(Path.Combine(Manager.UnitDirectory, PinTarget),
            $"[Unit]\nDescription=Keeps {HelloGracefulUnits.Service} loaded while it is stopped\nAfter={HelloGracefulUnits.Service}\n");
        await InstallServiceAsync();
        await Manager.SystemctlCheckedAsync("start", PinTarget);
        await StartSocketAsync();
    }

    private async Task InstallServiceAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(Manager.UnitDirectory, HelloGracefulUnits.Service),
            HelloGracefulUnits.ServiceText(AppDirectory, LogFile, notifyReload: false));
        await Manager.SystemctlCheckedAsync("daemon-reload");
    }

    /// <summary>
    /// A port that nothing used a moment ago. systemd binds the socket unit itself, so the port cannot be
    /// held for it; the caller retries with another port if it was taken meanwhile.
    /// </summary>
    private static int UnusedLoopbackPort()
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Starts the socket unit on a port that was free a moment ago (another one if it was taken meanwhile).</summary>
    internal async Task StartSocketAsync()
    {
        for (int attempt = 1; ; attempt++)
        {
            if (Port == 0 || attempt > 1)
            {
                Port = UnusedLoopbackPort();
                await File.WriteAllTextAsync(Path.Combine(Manager.UnitDirectory, HelloGracefulUnits.Socket), HelloGracefulUnits.SocketText(Port));
                await Manager.SystemctlCheckedAsync("daemon-reload");
            }

            var (exitCode, text) = await Manager.SystemctlAsync("start", HelloGracefulUnits.Socket);
            var socket = await Manager.ShowAsync(HelloGracefulUnits.Socket, "ActiveState", "Result");
            if (exitCode == 0 && socket["ActiveState"] == "active")
            {
                return;
            }

            if (attempt == 3)
            {
                throw new InvalidOperationException($"The socket unit did not start on 127.0.0.1:{Port}: {text}; {socket}");
            }

            await Manager.SystemctlAsync("reset-failed", HelloGracefulUnits.Socket);
        }
    }

    /// <summary>Stops service and socket and forgets earlier failures.</summary>
    internal async Task StopAllAsync()
    {
        await Manager.SystemctlCheckedAsync("stop", HelloGracefulUnits.Service, HelloGracefulUnits.Socket);
        await Manager.SystemctlAsync("reset-failed", HelloGracefulUnits.Service, HelloGracefulUnits.Socket);
    }

    /// <summary>Makes sure the socket listens and the service serves (a first request starts it); returns what serves.</summary>
    internal async Task<Serving> EnsureServingAsync()
    {
        var socket = await Manager.ShowAsync(HelloGracefulUnits.Socket, "ActiveState");
        if (socket["ActiveState"] != "active")
        {
            await StartSocketAsync();
        }

        using var client = new KeepAliveClient(EndPoint);
        using var timeout = new CancellationTokenSource(Timeout);
        var (status, body, _) = await client.GetAsync("/", timeout.Token);
        Assert.Equal(200, status);
        var serving = await WaitForGenerationAsync(null);
        Assert.Equal(serving.Child, Http.ParsePid(body));
        return serving;
    }

    /// <summary>Waits until the service is active and its status names <paramref name="generation"/> (any, if null) as serving.</summary>
    internal async Task<Serving> WaitForGenerationAsync(int? generation)
    {
        var properties = await Manager.WaitForAsync(HelloGracefulUnits.Service, ["ActiveState", "MainPID", "NRestarts", "StatusText"],
            p => p["ActiveState"] == "active" && ServingPattern().Match(p["StatusText"]) is { Success: true } m &&
                 (generation is null || m.Groups[1].Value == generation.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Timeout, generation is null ? "a serving generation" : $"generation {generation} serving");
        var match = ServingPattern().Match(properties["StatusText"]);
        return new Serving(properties.Int("MainPID"), int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), properties.Int("NRestarts"));
    }

    internal void RestoreAppSettings() => File.Copy(Path.Combine(ExampleApp.OutputDirectory, "appsettings.json"), AppSettings, overwrite: true);

    /// <summary>What the service wrote to its log from byte <paramref name="start"/> on.</summary>
    internal string LogSince(long start)
    {
        if (!File.Exists(LogFile))
        {
            return "(no service log)";
        }

        using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Position = Math.Min(start, stream.Length);
        return new StreamReader(stream).ReadToEnd();
    }

    public Task DisposeAsync()
    {
        _manager?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>The end of a StatusText such as "Generation 2 (pid 123) serving", also after "rolled back, ".</summary>
    [GeneratedRegex(@"Generation (\d+) \(pid (\d+)\) serving$")]
    private static partial Regex ServingPattern();
}

/// <summary>What serves: the master (systemd's MainPID), its generation and child, and how often systemd restarted it.</summary>
internal sealed record Serving(int MainPid, int Generation, int Child, int Restarts);

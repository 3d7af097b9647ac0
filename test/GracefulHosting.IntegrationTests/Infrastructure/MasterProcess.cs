using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// A real HelloGraceful process started by a test (normally a master), with its log lines.
/// Dispose kills it and every descendant by pid, even when the test failed, and writes the whole
/// log to the test's output, which the test runner prints for every test that fails.
/// </summary>
internal sealed partial class MasterProcess : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _lineAdded = new(0);
    private readonly HashSet<int> _knownPids = [];
    private readonly Lock _lock = new();
    private readonly ITestOutputHelper? _output;
    private int _closedStreams;

    private readonly string _app;
    private readonly string? _controlFolder;

    private MasterProcess(Process process, string app, ITestOutputHelper? output, string? controlFolder)
    {
        _process = process;
        _app = app;
        _controlFolder = controlFolder;
        _output = output;
        Pid = process.Id;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The environment variable that sets GracefulRestart:ControlSocket.</summary>
    public const string ControlSocketVariable = "GracefulRestart__ControlSocket";

    public int Pid { get; }

    /// <summary>The control socket this process's master listens on, when the test did not name one.</summary>
    public string? ControlSocket => _controlFolder is null ? null : Path.Combine(_controlFolder, "control.sock");

    public IReadOnlyCollection<string> Lines => LinesFrom(0);

    public string Output => string.Join('\n', Lines);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>dotnet HelloGraceful.dll</c> in <paramref name="appDirectory"/> on a free port of 127.0.0.1.</summary>
    /// <remarks>
    /// With <c>launcher</c>, a command that execs the app (such as <c>systemd-socket-activate -l ...</c>) runs first.
    /// With <c>app</c>, another app than HelloGraceful: <c>&lt;app&gt;.dll</c> in <paramref name="appDirectory"/>.
    /// With <c>output</c>, the process's log goes to the test's output when it is disposed, so that a failing
    /// test shows it whatever assertion failed.
    /// With <c>executable</c>, a natively compiled app runs itself: no <c>dotnet</c>, no launcher.
    /// </remarks>
    public static MasterProcess Start(string? appDirectory = null, IEnumerable<string>? arguments = null,
        IDictionary<string, string?>? environment = null, bool defaultEndpoint = true, IReadOnlyList<string>? launcher = null,
        string app = "HelloGraceful", ITestOutputHelper? output = null, string? executable = null)
    {
        if (executable is not null)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(launcher is null, true, nameof(launcher));
            appDirectory = Path.GetDirectoryName(executable)!;
            app = Path.GetFileName(executable);
        }

        appDirectory ??= app == "HelloGraceful" ? ExampleApp.OutputDirectory : ExampleApp.TestAppOutput(app);
        var startInfo = new ProcessStartInfo(executable ?? (launcher is { Count: > 0 } ? launcher[0] : "dotnet"))
        {
            WorkingDirectory = appDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (launcher is { Count: > 0 })
        {
            foreach (string part in launcher.Skip(1))
            {
                startInfo.ArgumentList.Add(part);
            }

            startInfo.ArgumentList.Add("dotnet");
        }

        if (executable is null)
        {
            startInfo.ArgumentList.Add(Path.Combine(appDirectory, app + ".dll"));
        }
        if (defaultEndpoint)
        {
            startInfo.ArgumentList.Add("--Kestrel:Endpoints:Http:Url=http://127.0.0.1:0");
        }

        foreach (string argument in arguments ?? [])
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment.Remove("GRACEFULHOSTING_CHILD");
        // A control socket of its own in a folder the test removes, unless the test names one.
        string? controlFolder = null;
        if (environment?.ContainsKey(ControlSocketVariable) != true && arguments?.Any(a => a.Contains("ControlSocket", StringComparison.Ordinal)) != true)
        {
            controlFolder = Directory.CreateTempSubdirectory("gh-control-").FullName;
            startInfo.Environment[ControlSocketVariable] = Path.Combine(controlFolder, "control.sock");
        }

        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Production";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        return new MasterProcess(Process.Start(startInfo)!, app, output, controlFolder);
    }

    /// <summary>
    /// True once standard output and standard error have both ended: the process and every child that
    /// shared them have exited, so no line will come any more.
    /// </summary>
    public bool OutputEnded => Volatile.Read(ref _closedStreams) == 2;

    private void OnLine(string? line)
    {
        if (line is null)
        {
            Interlocked.Increment(ref _closedStreams);
            SignalLineAdded();
            return;
        }

        lock (_lock)
        {
            _lines.Add(line);
            foreach (Match match in PidInLog().Matches(line))
            {
                _knownPids.Add(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        SignalLineAdded();
    }

    private void SignalLineAdded()
    {
        try
        {
            _lineAdded.Release();
        }
        catch (ObjectDisposedException)
        {
            // Output that arrives after dispose (a descendant that kept the pipe open) has no reader left.
        }
    }

    /// <summary>Waits for a log line matching <paramref name="pattern"/> and returns its match.</summary>
    public async Task<Match> WaitForLineAsync(string pattern, TimeSpan? timeout = null, int skip = 0)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        // Each line is matched once, so waiting through a long log costs no more than reading it.
        int scanned = 0;
        int found = 0;
        while (true)
        {
            // Read before the lines: once the output has ended, the lines read after it are all there will be.
            bool ended = OutputEnded;
            var fresh = LinesFrom(scanned);
            scanned += fresh.Count;
            foreach (string line in fresh)
            {
                var match = regex.Match(line);
                if (match.Success && found++ == skip)
                {
                    return match;
                }
            }

            if (ended)
            {
                throw new TimeoutException($"No log line matched /{pattern}/, and none will: the process has exited " +
                    $"(exit code {(_process.HasExited ? _process.ExitCode : "unknown")}) and so has every child that shared its output. Output:\n{Output}");
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No log line matched /{pattern}/ within {timeout ?? DefaultTimeout}. Output:\n{Output}");
            }

            await _lineAdded.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    public bool HasLine(string pattern) => Lines.Any(l => Regex.IsMatch(l, pattern));

    /// <summary>The lines after the first <paramref name="start"/>.</summary>
    private List<string> LinesFrom(int start)
    {
        lock (_lock)
        {
            return _lines.GetRange(start, _lines.Count - start);
        }
    }

    /// <summary>
    /// Runs the app in <paramref name="appDirectory"/> as a command for this master (<c>--graceful reload</c>,
    /// <c>--graceful status</c>), as a deploy script would, with the <paramref name="arguments"/> the app
    /// needs to get as far as building its host; returns its exit code and what it printed.
    /// </summary>
    public async Task<(int ExitCode, string Output)> RunCommandAsync(string verb, string appDirectory, IEnumerable<string>? arguments = null)
    {
        var (exitCode, text) = await ToolProcess.RunAsync("dotnet", [Path.Combine(appDirectory, _app + ".dll"), .. arguments ?? [], "--graceful", verb],
            appDirectory, TimeSpan.FromMinutes(3), new Dictionary<string, string?> { [ControlSocketVariable] = ControlSocket });
        _output?.WriteLine($"---- --graceful {verb}: exit code {exitCode} ----\n{text}");
        return (exitCode, text);
    }

    /// <summary>
    /// Asserts that the master stopped because its first generation could not start (each generation's
    /// own Kestrel asks for its sockets, so a bad endpoint fails the first child), and that no process
    /// of the test is left alive.
    /// </summary>
    public void AssertFirstGenerationFailed()
    {
        Assert.True(HasLine("The first generation of the app did not become ready; the master stops"), Output);
        Assert.DoesNotContain(AllPids(), Native.IsAlive);
    }

    /// <summary>
    /// Asserts that the first line containing <paramref name="first"/> comes before the first line
    /// containing <paramref name="second"/>; <paramref name="why"/> says what the order means.
    /// </summary>
    public void AssertInOrder(string first, string second, string? why = null)
    {
        var lines = LinesFrom(0);
        int a = lines.FindIndex(l => l.Contains(first, StringComparison.Ordinal));
        int b = lines.FindIndex(l => l.Contains(second, StringComparison.Ordinal));
        Assert.True(a >= 0 && b > a, $"{why ?? $"expected '{first}' before '{second}'"}. Output:\n{Output}");
    }

    /// <summary>
    /// The address of the <paramref name="index"/>th socket the master bound, from its "Bound ... for
    /// &lt;setting&gt; = '&lt;url&gt;'" line (as soon as a generation asks for it) or its "Listening on ... for
    /// &lt;url&gt;" line (once a generation serves on it), whichever comes first.
    /// </summary>
    public async Task<Uri> WaitForAddressAsync(int index = 0)
    {
        var deadline = DateTime.UtcNow + DefaultTimeout;
        while (true)
        {
            var addresses = Lines
                .Select(l => AddressInLog().Match(l))
                .Where(m => m.Success)
                .Select(m => new Uri($"{m.Groups["scheme"].Value}://{m.Groups["address"].Value}/"))
                .DistinctBy(u => u.Authority)
                .ToList();
            if (addresses.Count > index)
            {
                return addresses[index];
            }

            if (OutputEnded || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The master named no bound address number {index}. Output:\n{Output}");
            }

            await _lineAdded.WaitAsync(TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Waits until the given generation is ready and returns its pid.</summary>
    public async Task<int> WaitForReadyAsync(int generation, TimeSpan? timeout = null)
    {
        var match = await WaitForLineAsync($@"Child generation {generation} \(pid (\d+)\) is ready", timeout);
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until a restart has made <paramref name="generation"/> the serving one; returns its pid.</summary>
    public async Task<int> WaitForRestartAsync(int generation, TimeSpan? timeout = null)
    {
        var match = await WaitForLineAsync($@"Restart complete: generation {generation} \(pid (\d+)\)", timeout);
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Signal(int signal) => Native.Kill(Pid, signal);

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Every pid the process tree has had: the master, its live descendants and pids named in its log.</summary>
    public IReadOnlyList<int> AllPids()
    {
        var pids = new HashSet<int> { Pid };
        pids.UnionWith(Native.Descendants(Pid));
        lock (_lock)
        {
            pids.UnionWith(_knownPids);
        }

        return [.. pids];
    }

    public async ValueTask DisposeAsync()
    {
        var pids = AllPids();
        var killed = new List<int>();
        foreach (int pid in pids.Where(p => p != Environment.ProcessId))
        {
            // Only processes that belong to this test: the master and its descendants (or log-named
            // children that were re-parented after the master died).
            if (pid == Pid || Native.IsAlive(pid) && BelongsToTest(pid, _app))
            {
                Native.Kill(pid, Native.SIGKILL);
                killed.Add(pid);
            }
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(10));
        await RemoveRuntimeLeftoversAsync(pids, killed);
        if (_controlFolder is not null)
        {
            Directory.Delete(_controlFolder, recursive: true);
        }

        WriteLogToTestOutput();
        _process.Dispose();
        _lineAdded.Dispose();
    }

    private void WriteLogToTestOutput()
    {
        if (_output is null)
        {
            return;
        }

        try
        {
            _output.WriteLine($"---- log of process {Pid} ({Lines.Count} lines) ----");
            _output.WriteLine(Output);
        }
        catch (InvalidOperationException)
        {
            // Disposed after its test ended: there is no output to write to any more.
        }
    }

    /// <summary>
    /// A .NET process creates a diagnostics socket and two debugger pipes in the temp folder and
    /// removes them when it exits normally, but not when it is killed or crashes. Removes those of
    /// the given processes once they are dead; a pid that now belongs to a live process is left alone.
    /// </summary>
    private static async Task RemoveRuntimeLeftoversAsync(IReadOnlyList<int> pids, IReadOnlyList<int> killed)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (killed.Any(Native.IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        string temp = System.IO.Path.GetTempPath();
        foreach (int pid in pids.Where(p => p != Environment.ProcessId && !Native.IsAlive(p)))
        {
            foreach (string pattern in new[] { $"dotnet-diagnostic-{pid}-*-socket", $"clr-debug-pipe-{pid}-*-in", $"clr-debug-pipe-{pid}-*-out" })
            {
                foreach (string file in Directory.EnumerateFiles(temp, pattern))
                {
                    try
                    {
                        File.Delete(file);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                    }
                }
            }
        }
    }

    private static bool BelongsToTest(int pid, string app)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(app, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"(?:Listening on (?<address>\S+) for (?<scheme>\w+)://|Bound (?<address>\S+) for [^=]+ = '(?<scheme>\w+)://)")]
    private static partial Regex AddressInLog();

    [GeneratedRegex(@"(?:\(pid |with pid )(\d+)")]
    private static partial Regex PidInLog();
}

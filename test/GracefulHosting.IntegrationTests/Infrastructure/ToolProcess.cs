using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// A process started by a test that is not the example app (dotnet build or publish, pack.sh, a consumer
/// or published app), with its output.
/// Dispose kills it and every descendant by pid, and the children its log named, even when the test failed.
/// </summary>
internal sealed class ToolProcess : IAsyncDisposable
{
    private static readonly Regex PidInLog = new(@"\(pid (\d+)\)", RegexOptions.Compiled);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _lineAdded = new(0);
    private readonly ConcurrentDictionary<int, bool> _loggedPids = new();
    private readonly string? _childMarker;

    private ToolProcess(Process process, string? childMarker)
    {
        _process = process;
        _childMarker = childMarker;
        Pid = process.Id;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid { get; }

    public string Output => string.Join('\n', _lines);

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts a command. With <c>childMarker</c>, pids named "(pid N)" in the output whose command
    /// line contains that text are killed on dispose too, even once they are no longer descendants.
    /// </summary>
    public static ToolProcess Start(string fileName, IReadOnlyList<string> arguments, string workingDirectory,
        IDictionary<string, string?>? environment = null, string? childMarker = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Whatever the test host inherited from dotnet test, the CI or a service manager.
        foreach (string key in startInfo.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || key.StartsWith("ASPNETCORE_", StringComparison.Ordinal)
                || key.StartsWith("DOTNET_URLS", StringComparison.Ordinal) || key.StartsWith("LISTEN_", StringComparison.Ordinal)
                || key.StartsWith("WATCHDOG_", StringComparison.Ordinal) || key is "NOTIFY_SOCKET" or "GRACEFULHOSTING_CHILD")
            {
                startInfo.Environment.Remove(key);
            }
        }

        // No build server or reused MSBuild node outlives the command.
        startInfo.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        startInfo.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        startInfo.Environment["UseSharedCompilation"] = "false";
        startInfo.Environment["UseRazorBuildServer"] = "false";
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
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

        var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        return new ToolProcess(process, childMarker);
    }

    /// <summary>Runs a command to its end; on timeout kills it and its descendants and returns exit code -1.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IReadOnlyList<string> arguments,
        string workingDirectory, TimeSpan timeout, IDictionary<string, string?>? environment = null)
    {
        await using var process = Start(fileName, arguments, workingDirectory, environment);
        if (!await process.WaitForExitAsync(timeout))
        {
            return (-1, $"Timed out after {timeout}:\n{process.Output}");
        }

        return (process.ExitCode, process.Output);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        if (_childMarker is not null)
        {
            foreach (Match match in PidInLog.Matches(line))
            {
                _loggedPids[int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)] = true;
            }
        }

        _lineAdded.Release();
    }

    public async Task<Match> WaitForLineAsync(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var match = _lines.Select(l => regex.Match(l)).FirstOrDefault(m => m.Success);
            if (match is not null)
            {
                return match;
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The process exited with {_process.ExitCode} before a line matched /{pattern}/. Output:\n{Output}");
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No line matched /{pattern}/ within {timeout}. Output:\n{Output}");
            }

            await _lineAdded.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

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

    public async ValueTask DisposeAsync()
    {
        // Once the process has exited and been reaped its pid may be reused: walk it only while it lives.
        HashSet<int> pids = _process.HasExited ? [] : [.. Native.Descendants(Pid)];
        foreach (int logged in _loggedPids.Keys)
        {
            // A child that the log named and that was re-parented after its master died.
            if (Native.IsAlive(logged) && CommandLineContains(logged, _childMarker!))
            {
                pids.Add(logged);
            }
        }

        if (!_process.HasExited)
        {
            Native.Kill(Pid, Native.SIGKILL);
        }

        foreach (int pid in pids.Where(p => p != Environment.ProcessId && p != Pid))
        {
            Native.Kill(pid, Native.SIGKILL);
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
        _lineAdded.Dispose();
    }

    private static bool CommandLineContains(int pid, string marker)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(marker, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}

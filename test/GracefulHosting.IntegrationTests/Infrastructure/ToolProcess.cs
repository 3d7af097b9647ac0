using System.Collections.Concurrent;
using System.Diagnostics;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>
/// A command a test runs to its end (dotnet build or publish, pack.sh), with its output. Apps that
/// restart gracefully run as a <see cref="MasterProcess"/> instead.
/// </summary>
internal static class ToolProcess
{
    /// <summary>Runs a command to its end; on timeout kills it and its descendants by pid and returns exit code -1.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IReadOnlyList<string> arguments,
        string workingDirectory, TimeSpan timeout, IDictionary<string, string?>? environment = null)
    {
        var lines = new ConcurrentQueue<string>();
        using var process = Process.Start(StartInfo(fileName, arguments, workingDirectory, environment))!;
        process.OutputDataReceived += (_, e) => Add(lines, e.Data);
        process.ErrorDataReceived += (_, e) => Add(lines, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            // Also waits until both streams have ended, so the output is complete.
            await process.WaitForExitAsync(cts.Token);
            return (process.ExitCode, string.Join('\n', lines));
        }
        catch (OperationCanceledException)
        {
            var tree = Native.Descendants(process.Id);
            Native.Kill(process.Id, Native.SIGKILL);
            foreach (int pid in tree.Where(p => p != Environment.ProcessId))
            {
                Native.Kill(pid, Native.SIGKILL);
            }

            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            return (-1, $"Timed out after {timeout}:\n{string.Join('\n', lines)}");
        }
    }

    private static void Add(ConcurrentQueue<string> lines, string? line)
    {
        if (line is not null)
        {
            lines.Enqueue(line);
        }
    }

    private static ProcessStartInfo StartInfo(string fileName, IReadOnlyList<string> arguments, string workingDirectory,
        IDictionary<string, string?>? environment)
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

        return startInfo;
    }
}

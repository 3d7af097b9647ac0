using System.Diagnostics;
using System.Text.RegularExpressions;
using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests;

/// <summary>The shipped systemd units parse with systemd's own checker, as written and in their pre-253 form.</summary>
public sealed partial class UnitFileTests
{
    private static string UnitDirectory => Path.Combine(ExampleApp.RepositoryRoot, "examples", "systemd");

    [Fact]
    public async Task ShippedUnits_SystemdAnalyzeVerify_NoErrors()
    {
        var (exitCode, output, version) = await VerifyAsync(
            Path.Combine(UnitDirectory, "hello-graceful.socket"), Path.Combine(UnitDirectory, "hello-graceful.service"));

        Assert.Equal(0, exitCode);
        // Type=notify-reload and ReloadSignal= arrived in systemd 253; older versions name exactly these two.
        var complaints = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => version >= 253 || !(l.Contains("notify-reload", StringComparison.Ordinal) || l.Contains("'ReloadSignal'", StringComparison.Ordinal)));
        Assert.Empty(complaints);
    }

    /// <remarks>
    /// A reload must fail when the new generation is rolled back, on every systemd version: the unit
    /// runs the reload command, which waits for the outcome, in place of a signal that returns at once.
    /// </remarks>
    [Fact]
    public async Task ServiceUnit_ReloadRunsTheReloadCommandWithTheControlSocketInItsRuntimeDirectory()
    {
        string service = await File.ReadAllTextAsync(Path.Combine(UnitDirectory, "hello-graceful.service"));

        Assert.Contains("\nType=notify\n", service, StringComparison.Ordinal);
        Assert.Contains("\nExecReload=/usr/bin/dotnet /opt/hello-graceful/HelloGraceful.dll --graceful reload\n", service, StringComparison.Ordinal);
        Assert.Contains("\nRuntimeDirectory=hello-graceful\n", service, StringComparison.Ordinal);
        Assert.DoesNotContain("kill -HUP", service, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output, int Version)> VerifyAsync(params string[] units)
    {
        var start = new ProcessStartInfo("systemd-analyze") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("verify");
        foreach (string unit in units)
        {
            start.ArgumentList.Add(unit);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        var versionStart = new ProcessStartInfo("systemd-analyze", "--version") { RedirectStandardOutput = true };
        using var versionProcess = Process.Start(versionStart)!;
        string versionText = await versionProcess.StandardOutput.ReadToEndAsync();
        await versionProcess.WaitForExitAsync();
        int version = int.Parse(VersionPattern().Match(versionText).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return (process.ExitCode, await stdout + await stderr, version);
    }

    [GeneratedRegex(@"systemd (\d+)")]
    private static partial Regex VersionPattern();
}

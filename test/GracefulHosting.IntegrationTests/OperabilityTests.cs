using System.Net;
using System.Text.RegularExpressions;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>Logs, health and what operators see, with real processes.</summary>
public sealed partial class OperabilityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Logs_EveryEventCarriesPidRoleAndGeneration()
    {
        await using var master = MasterProcess.Start(output: output);
        await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);
        master.Signal(Native.SIGHUP);
        int second = await master.WaitForRestartAsync(2);

        Assert.True(master.HasLine($@"master#0 pid {master.Pid} GracefulHosting\.Master\.MasterService: Started child generation 2"));
        Assert.True(master.HasLine($@"child#1 pid {first} Microsoft\.Hosting\.Lifetime: Now listening"));
        Assert.True(master.HasLine($@"child#2 pid {second} Microsoft\.Hosting\.Lifetime: Now listening"));
        // Only the bootstrap logger, before the host exists, may lack them.
        var hostLines = master.Lines.Where(l => l.Contains("GracefulHosting.", StringComparison.Ordinal) || l.Contains("Microsoft.Hosting", StringComparison.Ordinal));
        Assert.All(hostLines, l => Assert.Matches(EnrichedLine(), l));
    }

    [Fact]
    public async Task Logs_FileRotatedThenSighup_NewGenerationWritesToNewFile()
    {
        using var temp = new TempDirectory();
        string log = Path.Combine(temp.Path, "app.log");
        await using var master = MasterProcess.Start(arguments:
        [
            "--Serilog:WriteTo:1:Name=File",
            $"--Serilog:WriteTo:1:Args:path={log}",
            "--Serilog:WriteTo:1:Args:shared=true",
            "--Serilog:WriteTo:1:Args:outputTemplate={role}#{generation} pid {pid}: {Message:lj}{NewLine}",
        ], output: output);
        await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);
        await WaitForFileLineAsync(log, $"child#1 pid {first}: ");

        // logrotate's default: move the file away; writers must open a new one.
        string rotated = log + ".1";
        File.Move(log, rotated);
        master.Signal(Native.SIGHUP);
        int second = await master.WaitForRestartAsync(2);
        await master.WaitForLineAsync($@"Child generation 1 \(pid {first}\) exited");

        await WaitForFileLineAsync(log, $"child#2 pid {second}: ");
        Assert.DoesNotContain($"child#2 pid {second}", await ReadSharedAsync(rotated), StringComparison.Ordinal);
        Assert.DoesNotContain($"child#1 pid {first}", await ReadSharedAsync(log), StringComparison.Ordinal);
    }

    /// <remarks>
    /// A load balancer polls over a kept-alive connection. While the old generation drains for a restart,
    /// the next one serves on the same socket: the service is healthy, and the answer closes the connection
    /// so that the next poll reaches the new generation. Only when the service stops is it unhealthy.
    /// </remarks>
    [Fact]
    public async Task HealthCheck_DrainingForARestartHealthyStoppingUnhealthy_EachOnItsOpenConnection()
    {
        await using var master = MasterProcess.Start(arguments: ["--GracefulRestart:DrainQuietPeriod=00:00:05"], output: output);
        var address = await master.WaitForAddressAsync();
        var endpoint = new IPEndPoint(IPAddress.Parse(address.Host), address.Port);
        int oldPid = await master.WaitForReadyAsync(1);
        using var connection = new KeepAliveClient(endpoint);
        var (healthyStatus, healthyBody, _) = await connection.GetAsync("/healthz", CancellationToken.None);
        var (_, pidBody, _) = await connection.GetAsync("/", CancellationToken.None);
        Assert.Equal(200, healthyStatus);
        Assert.Equal("Healthy", healthyBody);
        Assert.Equal(oldPid, Http.ParsePid(pidBody));

        master.Signal(Native.SIGHUP);
        int newPid = await master.WaitForRestartAsync(2);
        await master.WaitForLineAsync($@"child#1 pid {oldPid} GracefulHosting\.Child\.ChildService: Stopping: no new connections");
        var (restartStatus, restartBody, restartClose) = await connection.GetAsync("/healthz", CancellationToken.None);

        Assert.Equal((200, "Healthy"), (restartStatus, restartBody));
        Assert.True(restartClose, "a draining generation answers with Connection: close");

        using var last = new KeepAliveClient(endpoint);
        await last.ConnectAndWaitUntilAcceptedAsync(newPid, TimeSpan.FromSeconds(15));
        master.Signal(Native.SIGTERM);
        await master.WaitForLineAsync($@"child#2 pid {newPid} GracefulHosting\.Child\.ChildService: Stopping: no new connections");
        var (stopStatus, stopBody, stopClose) = await last.GetAsync("/healthz", CancellationToken.None);

        Assert.Equal((503, "Unhealthy"), (stopStatus, stopBody));
        Assert.True(stopClose, "a draining generation answers with Connection: close");
        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the master did not exit");
        Assert.Equal(0, master.ExitCode);
    }

    private static async Task WaitForFileLineAsync(string path, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if (File.Exists(path) && (await ReadSharedAsync(path)).Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"'{text}' not in {path}: {(File.Exists(path) ? await ReadSharedAsync(path) : "(no file)")}");
            }

            await Task.Delay(100);
        }
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    [GeneratedRegex(@"\] (master|child)#\d+ pid \d+ ")]
    private static partial Regex EnrichedLine();
}

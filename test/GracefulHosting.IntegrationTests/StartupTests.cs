using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>What the master binds, where the app's code runs, and how bad input is refused.</summary>
public sealed class StartupTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Master_BackgroundService_RunsOnlyInChildren()
    {
        using var temp = new TempDirectory();
        string pidFile = Path.Combine(temp.Path, "pids.txt");
        await using var master = MasterProcess.Start(arguments: [$"--HelloGraceful:BackgroundPidFile={pidFile}"], output: output);
        await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);
        master.Signal(Native.SIGHUP);
        int second = await master.WaitForRestartAsync(2);

        var recorded = await WaitForPidsAsync(pidFile, 2);
        Assert.Equal(new[] { first, second }.Order(), recorded.Order());
        Assert.DoesNotContain(master.Pid, recorded);
    }

    [Fact]
    public async Task Master_ServesOnOneSocketPerEndpoint_ChildBindsNothing()
    {
        await using var master = MasterProcess.Start(arguments: ["--Kestrel:Endpoints:Second:Url=http://127.0.0.1:0"], output: output);
        var first = await master.WaitForAddressAsync(0);
        var second = await master.WaitForAddressAsync(1);
        int child = await master.WaitForReadyAsync(1);

        Assert.NotEqual(first.Port, second.Port);
        foreach (var address in new[] { first, second })
        {
            using var client = Http.CreateClient(address);
            Assert.Equal(child, await Http.GetPidAsync(client));
        }

        // The child's listening sockets are exactly the master's: same inode numbers, none of its own.
        var masterSockets = ProcNet.ListeningSockets(master.Pid).Keys.Order().ToList();
        Assert.Equal(masterSockets, ProcNet.ListeningSockets(child).Keys.Order());
        Assert.Equal(2, masterSockets.Count);
    }

    [Fact]
    public async Task Master_HttpsEndpointWithCertificate_ChildServesTls()
    {
        using var temp = new TempDirectory();
        string certificate = Path.Combine(temp.Path, "localhost.pfx");
        TestCertificate.WriteSelfSigned(certificate, "secret");
        await using var master = MasterProcess.Start(arguments:
        [
            "--Kestrel:Endpoints:Https:Url=https://127.0.0.1:0",
            $"--Kestrel:Endpoints:Https:Certificate:Path={certificate}",
            "--Kestrel:Endpoints:Https:Certificate:Password=secret",
        ], output: output);
        Uri? https = null;
        for (int i = 0; i < 2 && https is null; i++)
        {
            var address = await master.WaitForAddressAsync(i);
            https = address.Scheme == "https" ? address : null;
        }

        int child = await master.WaitForReadyAsync(1);
        Assert.NotNull(https);
        using var client = Http.CreateClient(https, acceptAnyCertificate: true);
        Assert.Equal(child, await Http.GetPidAsync(client));

        master.Signal(Native.SIGHUP);
        int next = await master.WaitForRestartAsync(2);
        Assert.Equal(next, await Http.WaitForPidAsync(client, p => p == next, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task Master_PortInUse_ExitsNonZeroNamingTheSettingAndLeavesNoChild()
    {
        using var blocker = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blocker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        blocker.Listen();
        int port = ((IPEndPoint)blocker.LocalEndPoint!).Port;

        await using var master = MasterProcess.Start(arguments: [$"--Kestrel:Endpoints:Http:Url=http://127.0.0.1:{port}"], defaultEndpoint: false, output: output);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotEqual(0, master.ExitCode);
        Assert.Contains("Kestrel:Endpoints:Http:Url", master.Output, StringComparison.Ordinal);
        Assert.Contains("already in use", master.Output, StringComparison.Ordinal);
        master.AssertFirstGenerationFailed();
    }

    [Theory]
    [InlineData("--GracefulRestart:StartTimeout=-00:00:01", "GracefulRestart:StartTimeout")]
    [InlineData("--GracefulRestart:ExitTimeout=00:00:00", "GracefulRestart:ExitTimeout")]
    [InlineData("--GracefulRestart:LongLivedGracePeriod=00:00:30", "GracefulRestart:LongLivedGracePeriod")]
    [InlineData("--GracefulRestart:RestartSignal=SIGWHAT", "GracefulRestart:RestartSignal")]
    [InlineData("--GracefulRestart:Strategy=Sideways", "GracefulRestart:Strategy")]
    [InlineData("--Kestrel:Endpoints:Http:Url=ftp://127.0.0.1:0", "Kestrel:Endpoints:Http:Url")]
    [InlineData("--Kestrel:Endpoints:Http:Url=http://127.0.0.1:99999", "Kestrel:Endpoints:Http:Url")]
    public async Task Master_BadSetting_ExitsNonZeroNamingTheKey(string argument, string key)
    {
        await using var master = MasterProcess.Start(arguments: [argument], defaultEndpoint: false, output: output);

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotEqual(0, master.ExitCode);
        Assert.Contains(key, master.Output, StringComparison.Ordinal);
        // Options stop the master before any child; an endpoint fails the first generation's Kestrel.
        if (key.StartsWith("GracefulRestart:", StringComparison.Ordinal))
        {
            Assert.False(master.HasLine("Started child generation"));
        }
        else
        {
            master.AssertFirstGenerationFailed();
        }
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("generation=1;control=0")]
    [InlineData("generation=1;control=200")]
    public async Task Child_InvalidMarker_ExitsWithCode1AndClearError(string marker)
    {
        await using var child = MasterProcess.Start(environment: new Dictionary<string, string?> { ["GRACEFULHOSTING_CHILD"] = marker }, output: output);

        Assert.True(await child.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, child.ExitCode);
        Assert.Contains("GRACEFULHOSTING_CHILD", child.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", child.Output, StringComparison.Ordinal);
        Assert.False(child.HasLine("Now listening"));
    }

    private static async Task<List<int>> WaitForPidsAsync(string file, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var pids = File.Exists(file)
                ? (await File.ReadAllLinesAsync(file)).Where(l => l.Length > 0).Select(int.Parse).ToList()
                : [];
            if (pids.Count >= count || DateTime.UtcNow > deadline)
            {
                return pids;
            }

            await Task.Delay(100);
        }
    }
}

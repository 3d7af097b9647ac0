using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>Configuration sources, warm-up, coalescing and the exit deadline, with real processes.</summary>
[Collection(SerialCollection.Name)]
public sealed class LifecycleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Disabled_EnabledFalse_AppServesInItsOwnProcessWithoutChildren()
    {
        await using var app = MasterProcess.Start(arguments: ["--GracefulRestart:Enabled=false"], output: output);
        var match = await app.WaitForLineAsync(@"Now listening on: (http://\S+)");
        using var client = Http.CreateClient(new Uri(match.Groups[1].Value));

        Assert.Equal(app.Pid, await Http.GetPidAsync(client));
        Assert.Empty(Native.Descendants(app.Pid));
        Assert.False(app.HasLine("Started child generation"));
    }

    [Theory]
    [InlineData("argument")]
    [InlineData("environment")]
    public async Task Master_UrlsFromCommandLineOrEnvironment_BoundAndServed(string source)
    {
        using var copy = ExampleApp.CopyToTemp();
        ExampleApp.RemoveKestrelSection(copy.Path);
        await using var master = source == "argument"
            ? MasterProcess.Start(copy.Path, ["--urls=http://127.0.0.1:0"], defaultEndpoint: false, output: output)
            : MasterProcess.Start(copy.Path, environment: new Dictionary<string, string?> { ["ASPNETCORE_URLS"] = "http://127.0.0.1:0" }, defaultEndpoint: false, output: output);

        var address = await master.WaitForAddressAsync();
        Assert.Equal("127.0.0.1", address.Host);
        Assert.NotEqual(0, address.Port);
        Assert.Single(ProcNet.ListeningSockets(master.Pid));
        int child = await master.WaitForReadyAsync(1);
        using var client = Http.CreateClient(address);
        Assert.Equal(child, await Http.GetPidAsync(client));
    }

    [Fact]
    public async Task Child_Warmup_NotReadyUntilWarmupEnds()
    {
        await using var master = MasterProcess.Start(arguments: ["--HelloGraceful:WarmupMilliseconds=2000"], output: output);
        var ready = await master.WaitForLineAsync(@"Child generation 1 \(pid \d+\) is ready after (\d+) ms");

        Assert.True(int.Parse(ready.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 2000);
    }

    [Fact]
    public async Task Sighup_OldChildOverrunsExitTimeout_KilledAndReaped()
    {
        await using var master = MasterProcess.Start(arguments:
        [
            "--GracefulRestart:ExitTimeout=00:00:02",
            "--GracefulRestart:DrainQuietPeriod=00:00:00.200",
            "--HelloGraceful:StopDelayMilliseconds=600000",
        ], output: output);
        await master.WaitForAddressAsync();
        int oldPid = await master.WaitForReadyAsync(1);

        master.Signal(Native.SIGHUP);
        await master.WaitForRestartAsync(2);

        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) outlived GracefulRestart:ExitTimeout", TimeSpan.FromSeconds(15));
        await master.WaitForLineAsync($@"Child generation 1 \(pid {oldPid}\) exited: signal 9", TimeSpan.FromSeconds(15));
        Assert.Null(Native.ProcState(oldPid));
    }
}

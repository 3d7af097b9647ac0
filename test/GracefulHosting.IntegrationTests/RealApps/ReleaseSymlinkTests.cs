using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests.RealApps;

/// <summary>
/// The deploy layout <c>current -&gt; releases/N</c>: the link is swapped to a new release, then the
/// master restarts, as <c>systemctl reload</c> after a deploy.
/// </summary>
public sealed class ReleaseSymlinkTests
{
    [Fact]
    public async Task Sighup_AfterCurrentLinkSwapped_NewGenerationRunsNewReleaseAndOldOneCanBeDeleted()
    {
        using var root = new TempDirectory();
        string one = Release(root.Path, "one");
        string two = Release(root.Path, "two");
        string current = Path.Combine(root.Path, "current");
        File.CreateSymbolicLink(current, "releases/one");
        // As under systemd (WorkingDirectory=/opt/app/current, no PWD): the command line names the app
        // through the link, the kernel reports the working directory resolved.
        await using var master = MasterProcess.Start(current, app: "TelemetryApp", environment: new Dictionary<string, string?> { ["PWD"] = null });
        var address = await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1);
        using var client = Http.CreateClient(address);
        string before = await client.GetStringAsync("/");

        ExampleApp.SwapLink(current, "releases/two");
        await using var swapLoad = await RealAppScenario.RestartUnderLoadAsync(master, master.Pid, address, 2);
        string afterSwap = await client.GetStringAsync("/");
        int second = Http.ParsePid(afterSwap);
        string secondDirectory = Path.GetFullPath(new DirectoryInfo($"/proc/{second}/cwd").ResolveLinkTarget(returnFinalTarget: false)!.FullName);

        Directory.Delete(one, recursive: true);
        await using var deleteLoad = await RealAppScenario.RestartUnderLoadAsync(master, master.Pid, address, 3);
        string afterDelete = await client.GetStringAsync("/");

        Assert.StartsWith($"release=one pid={first} ", before, StringComparison.Ordinal);
        Assert.StartsWith("release=two ", afterSwap, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
        Assert.Equal(two, secondDirectory);
        Assert.StartsWith("release=two ", afterDelete, StringComparison.Ordinal);
        Assert.NotEqual(second, Http.ParsePid(afterDelete));
        Assert.Empty(swapLoad.Failures);
        Assert.Empty(deleteLoad.Failures);
        Assert.Contains(swapLoad.Bodies, b => b.StartsWith("release=two ", StringComparison.Ordinal));
    }

    /// <summary>A copy of the built app in <c>releases/&lt;name&gt;</c> that answers with its name.</summary>
    private static string Release(string root, string name)
    {
        string directory = Path.Combine(root, "releases", name);
        ExampleApp.CopyDirectory(ExampleApp.TestAppOutput("TelemetryApp"), directory);
        ExampleApp.EditSettings(directory, json => json["Release"] = name);
        return directory;
    }
}

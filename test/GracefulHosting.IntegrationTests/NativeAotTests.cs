using System.Text.Json.Nodes;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>
/// The library under Native AOT: <c>test/apps/AotApp</c>, published once with <c>PublishAot=true</c>,
/// runs as a master, restarts, rolls a broken generation back and stops.
/// </summary>
[Collection(NativeAotCollection.Name)]
public sealed class NativeAotTests(PublishedAotApp app, ITestOutputHelper output)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Publish_AotApp_NativeExecutableWithoutTrimOrAotWarnings()
    {
        Assert.True(File.Exists(app.Executable), $"No native executable at {app.Executable}");
        Assert.False(File.Exists(Path.ChangeExtension(app.Executable, ".dll")), "The publish left a managed AotApp.dll: it was not a Native AOT publish");
        var warnings = app.PublishOutput.Split('\n').Where(l => l.Contains("warning IL", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 0, "The AOT publish warned:\n" + string.Join('\n', warnings));
    }

    [Fact]
    public async Task NativeAotMaster_RestartRollbackAndStop_ServesThroughoutAndExits0()
    {
        using var temp = new TempDirectory();
        string directory = app.CopyTo(temp.Path);
        string executable = Path.Combine(directory, Path.GetFileName(app.Executable));
        await using var master = MasterProcess.Start(executable: executable, arguments: ["--urls=http://127.0.0.1:0"],
            defaultEndpoint: false, output: output);
        var address = await master.WaitForAddressAsync();
        int first = await master.WaitForReadyAsync(1, StepTimeout);
        Assert.Equal(executable, Native.ExecutablePath(master.Pid));
        Assert.Equal(executable, Native.ExecutablePath(first));
        using var client = Http.CreateClient(address);
        Assert.Equal(first, await Http.GetPidAsync(client));

        // Restart: a new generation serves, the old one is gone.
        master.Signal(Native.SIGHUP);
        int second = await master.WaitForRestartAsync(2, StepTimeout);
        Assert.Equal(second, await Http.WaitForPidAsync(client, p => p == second, StepTimeout));

        // A broken deployment: every new generation fails before it is ready, and the master keeps generation 2.
        ExampleApp.EditSettings(directory, json => json["AotApp"] = new JsonObject { ["FailStartup"] = true });
        master.Signal(Native.SIGHUP);
        await master.WaitForLineAsync($@"Restart rolled back: generation 2 \(pid {second}\) keeps serving", StepTimeout);
        Assert.Equal(second, await Http.GetPidAsync(client));
        Assert.True(Native.IsAlive(second));

        master.Signal(Native.SIGTERM);
        Assert.True(await master.WaitForExitAsync(StepTimeout), "The master did not exit within 30 s of SIGTERM");
        Assert.Equal(0, master.ExitCode);
        Assert.False(Native.IsAlive(second), $"Child {second} outlived its master");
    }
}

/// <summary>Runs the Native AOT tests alone: the publish takes both cores for a minute or more.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeAotCollection : ICollectionFixture<PublishedAotApp>
{
    public const string Name = "NativeAot";
}

/// <summary><c>test/apps/AotApp</c> published once as Native AOT for linux-x64 into a temporary folder.</summary>
public sealed class PublishedAotApp : IAsyncLifetime
{
    // An AOT publish takes about 75 s on two idle cores; more while other tests run.
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(6);

    private readonly TempDirectory _root = new();

    public string PublishDirectory => Path.Combine(_root.Path, "publish");

    public string Executable => Path.Combine(PublishDirectory, "AotApp");

    public string PublishOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        string project = Path.Combine(ExampleApp.RepositoryRoot, "test", "apps", "AotApp", "AotApp.csproj");
        var publish = await ToolProcess.RunAsync("dotnet",
            ["publish", project, "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", PublishDirectory, "-nologo"],
            ExampleApp.RepositoryRoot, PublishTimeout);
        PublishOutput = publish.Output;
        if (publish.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish of the AOT app exited with {publish.ExitCode}:\n{publish.Output}");
        }
    }

    /// <summary>Copies the published app (executable and appsettings.json) into <paramref name="root"/>; returns the folder.</summary>
    internal string CopyTo(string root)
    {
        string target = Path.Combine(root, "app");
        Directory.CreateDirectory(target);
        foreach (string file in Directory.EnumerateFiles(PublishDirectory).Where(f => !f.EndsWith(".dbg", StringComparison.Ordinal)))
        {
            // File.Copy keeps the execute permission on Linux.
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    public Task DisposeAsync()
    {
        _root.Dispose();
        return Task.CompletedTask;
    }
}

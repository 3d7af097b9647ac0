using System.Text.Json.Nodes;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>Where the built HelloGraceful example lives, and private copies of it.</summary>
internal static class ExampleApp
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The example's own build output (built with this test project, same configuration).</summary>
    public static string OutputDirectory { get; } = FindOutput();

    /// <summary>Copies the example's output to a new temporary folder that the test may change.</summary>
    public static TempDirectory CopyToTemp()
    {
        var temp = new TempDirectory();
        foreach (string file in Directory.EnumerateFiles(OutputDirectory, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(temp.Path, Path.GetRelativePath(OutputDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return temp;
    }

    /// <summary>Reads, changes and writes back the appsettings.json of a copy of the app.</summary>
    public static void EditSettings(string appDirectory, Action<JsonObject> edit)
    {
        string path = Path.Combine(appDirectory, "appsettings.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>Removes the Kestrel section, so endpoints come from urls, ports or systemd instead.</summary>
    public static void RemoveKestrelSection(string appDirectory) =>
        EditSettings(appDirectory, json => json.Remove("Kestrel"));

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GracefulHosting.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("GracefulHosting.sln not found above " + AppContext.BaseDirectory);
    }

    private static string FindOutput() => FindOutput(Path.Combine("examples", "HelloGraceful"), "HelloGraceful");

    /// <summary>The build output of the app project in <paramref name="projectDirectory"/>, built with this test project.</summary>
    internal static string FindOutput(string projectDirectory, string app)
    {
        // .../test/GracefulHosting.IntegrationTests/bin/<Configuration>/<tfm>/
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string tfm = testOutput.Name;
        string configuration = testOutput.Parent!.Name;
        string output = Path.Combine(RepositoryRoot, projectDirectory, "bin", configuration, tfm);
        if (!File.Exists(Path.Combine(output, app + ".dll")))
        {
            throw new InvalidOperationException($"{app} is not built at {output}.");
        }

        return output;
    }
}

/// <summary>The small apps in test/apps, each built with this test project.</summary>
internal static class TestApps
{
    public const string Endpoints = "EndpointsApp";

    /// <summary>The build output of <see cref="Endpoints"/>.</summary>
    public static string EndpointsDirectory { get; } = ExampleApp.FindOutput(Path.Combine("test", "apps", Endpoints), Endpoints);
}

/// <summary>A temporary folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "graceful-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

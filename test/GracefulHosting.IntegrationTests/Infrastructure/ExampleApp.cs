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
        CopyTo(temp.Path);
        return temp;
    }

    /// <summary>Copies the example's output into <paramref name="directory"/> (created if missing).</summary>
    public static void CopyTo(string directory) => CopyDirectory(OutputDirectory, directory);

    /// <summary>The build output of a test app in <c>test/apps/&lt;name&gt;</c>, built with the solution in this configuration.</summary>
    public static string TestAppOutput(string name) => FindOutput(Path.Combine("test", "apps", name), name);

    /// <summary>The build output of test app <paramref name="project"/> whose assembly is <paramref name="assembly"/>.</summary>
    public static string TestAppOutput(string project, string assembly) => FindOutput(Path.Combine("test", "apps", project), assembly);

    /// <summary>
    /// Points <paramref name="link"/> at <paramref name="target"/> atomically, as deploy scripts do
    /// (<c>ln -s</c> to a new name, then <c>mv -T</c>): a new link renamed over the old one.
    /// </summary>
    public static void SwapLink(string link, string target)
    {
        string next = link + ".next";
        File.CreateSymbolicLink(next, target);
        // rename(2) of the link itself; File.Move would look at the folder it points to.
        using var mv = System.Diagnostics.Process.Start("mv", ["-T", next, link]);
        mv.WaitForExit();
        if (mv.ExitCode != 0)
        {
            throw new InvalidOperationException($"mv -T {next} {link} failed with exit code {mv.ExitCode}.");
        }
    }

    /// <summary>Copies every file under <paramref name="source"/> into <paramref name="target"/>.</summary>
    public static void CopyDirectory(string source, string target)
    {
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
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

    /// <summary>The build output of an app project built with the solution (same configuration as this test project).</summary>
    private static string FindOutput(string projectDirectory, string assemblyName)
    {
        // .../test/GracefulHosting.IntegrationTests/bin/<Configuration>/<tfm>/
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string tfm = testOutput.Name;
        string configuration = testOutput.Parent!.Name;
        string output = Path.Combine(RepositoryRoot, projectDirectory, "bin", configuration, tfm);
        if (!File.Exists(Path.Combine(output, assemblyName + ".dll")))
        {
            throw new InvalidOperationException($"{assemblyName} is not built at {output}; build GracefulHosting.sln.");
        }

        return output;
    }
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

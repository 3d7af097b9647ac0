using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>
/// The NuGet package as a user gets it: <c>build/pack.sh</c> packs it into a temporary folder, and a
/// fresh web project that references it by version (no project reference) runs as a master.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class PackageTests(PackedPackage package, ITestOutputHelper output)
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromSeconds(100);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Pack_Library_NupkgHasReadmeXmlDocsAndSymbols()
    {
        using (var nupkg = ZipFile.OpenRead(package.NupkgPath))
        {
            var entries = nupkg.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("README.md", entries);
            Assert.Contains("lib/net10.0/GracefulHosting.dll", entries);
            Assert.Contains("lib/net10.0/GracefulHosting.xml", entries);

            var metadata = ReadNuspecMetadata(nupkg);
            Assert.Equal("GracefulHosting", Element(metadata, "id"));
            Assert.Equal(package.Version, Element(metadata, "version"));
            Assert.Equal("README.md", Element(metadata, "readme"));
            Assert.Equal("MIT", Element(metadata, "license"));
            Assert.Equal("GracefulHosting contributors", Element(metadata, "authors"));
            Assert.False(string.IsNullOrWhiteSpace(Element(metadata, "description")));
            // SourceLink: the commit the package was built from (the URL needs a git remote).
            Assert.Matches("^[0-9a-f]{40}$", metadata.Element(metadata.Name.Namespace + "repository")?.Attribute("commit")?.Value ?? "");
        }

        string snupkgPath = Path.ChangeExtension(package.NupkgPath, ".snupkg");
        Assert.True(File.Exists(snupkgPath), $"No symbol package {snupkgPath}");
        using var snupkg = ZipFile.OpenRead(snupkgPath);
        Assert.Contains("lib/net10.0/GracefulHosting.pdb", snupkg.Entries.Select(e => e.FullName));
    }

    [Fact]
    public async Task Package_ConsumedByFreshWebApp_ChildServesAndMasterStopsWithExitCode0()
    {
        using var temp = new TempDirectory();
        string appDirectory = package.CreateConsumerFolder(temp.Path);
        string packagesDirectory = Path.Combine(temp.Path, "packages");
        WriteConsumerProject(appDirectory, packagesDirectory, package.Version);

        // Restore from the packed folder into a private packages folder, so the global cache
        // never keeps (and later serves) a stale GracefulHosting package.
        var build = await ToolProcess.RunAsync("dotnet",
            ["build", Path.Combine(appDirectory, "PackageConsumer.csproj"), "-c", "Release", "--disable-build-servers", "-nologo"],
            appDirectory, BuildTimeout, new Dictionary<string, string?> { ["NUGET_PACKAGES"] = packagesDirectory });
        output.WriteLine(build.Output);
        Assert.True(build.ExitCode == 0, $"dotnet build of the consumer failed:\n{build.Output}");
        Assert.True(Directory.Exists(Path.Combine(packagesDirectory, "gracefulhosting", package.Version)),
            "GracefulHosting was not restored into the private packages folder");

        await using var master = MasterProcess.Start(Path.Combine(appDirectory, "bin", "Release", "net10.0"), ["--urls=http://127.0.0.1:0"],
            defaultEndpoint: false, app: "PackageConsumer", output: output);
        var address = await master.WaitForAddressAsync();
        int childPid = await master.WaitForReadyAsync(1, StartTimeout);

        using var client = Http.CreateClient(address);
        int servedBy = await Http.GetPidAsync(client);
        Assert.NotEqual(master.Pid, servedBy);
        Assert.Equal(childPid, servedBy);
        Assert.Contains(childPid, Native.Descendants(master.Pid));

        master.Signal(Native.SIGTERM);
        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)), "The master did not exit within 30 s of SIGTERM");
        Assert.Equal(0, master.ExitCode);
        Assert.False(Native.IsAlive(childPid), $"Child {childPid} outlived its master");
    }

    private static void WriteConsumerProject(string appDirectory, string packagesDirectory, string version)
    {
        // Stop MSBuild's and NuGet's upward search: nothing above the temporary folder applies.
        File.WriteAllText(Path.Combine(appDirectory, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(appDirectory, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(appDirectory, "Directory.Packages.props"), "<Project />\n");

        File.WriteAllText(Path.Combine(appDirectory, "PackageConsumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <RestorePackagesPath>{packagesDirectory}</RestorePackagesPath>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="GracefulHosting" Version="{version}" />
              </ItemGroup>
            </Project>
            """);

        File.WriteAllText(Path.Combine(appDirectory, "Program.cs"), """
            var builder = WebApplication.CreateBuilder(args);
            builder.Host.UseGracefulRestart();

            var app = builder.Build();
            app.MapGet("/", () => $"pid={Environment.ProcessId}\n");
            app.Run();
            """);
    }

    private static XElement ReadNuspecMetadata(ZipArchive nupkg)
    {
        var nuspec = nupkg.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/', StringComparison.Ordinal));
        using var stream = nuspec.Open();
        var root = XDocument.Load(stream).Root!;
        return root.Element(root.Name.Namespace + "metadata")!;
    }

    private static string? Element(XElement metadata, string name) => metadata.Element(metadata.Name.Namespace + name)?.Value;
}

/// <summary>Runs the package tests alone: they build twice and would slow the timing-sensitive tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackageCollection : ICollectionFixture<PackedPackage>
{
    public const string Name = "Package";
}

/// <summary>The package packed once by <c>build/pack.sh</c> into a temporary folder, and a NuGet.config that serves it.</summary>
public sealed class PackedPackage : IAsyncLifetime
{
    private static readonly TimeSpan PackTimeout = TimeSpan.FromSeconds(100);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "graceful-pack-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The folder that holds the .nupkg and .snupkg.</summary>
    public string FeedDirectory => Path.Combine(_root, "feed");

    public string NupkgPath { get; private set; } = "";

    public string Version { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(FeedDirectory);
        var pack = await ToolProcess.RunAsync("bash", [Path.Combine(ExampleApp.RepositoryRoot, "build", "pack.sh"), FeedDirectory],
            ExampleApp.RepositoryRoot, PackTimeout);
        if (pack.ExitCode != 0)
        {
            throw new InvalidOperationException($"build/pack.sh exited with {pack.ExitCode}:\n{pack.Output}");
        }

        NupkgPath = Directory.GetFiles(FeedDirectory, "GracefulHosting.*.nupkg").Single();
        using (var nupkg = ZipFile.OpenRead(NupkgPath))
        {
            using var stream = nupkg.GetEntry("GracefulHosting.nuspec")!.Open();
            var root = XDocument.Load(stream).Root!;
            Version = root.Element(root.Name.Namespace + "metadata")!.Element(root.Name.Namespace + "version")!.Value;
        }
    }

    /// <summary>
    /// Makes <c>app/</c> under <paramref name="root"/> for one consumer project, with the NuGet.config
    /// the README shows for a local package (packageSourceMapping included), its folder changed to
    /// <see cref="FeedDirectory"/>. Returns the folder.
    /// </summary>
    internal string CreateConsumerFolder(string root)
    {
        string app = Path.Combine(root, "app");
        Directory.CreateDirectory(app);

        var config = ReadmeNuGetConfig();
        string localKey = config.Root!.Element("packageSourceMapping")?.Elements("packageSource")
            .FirstOrDefault(source => source.Elements("package").Any(p => (string?)p.Attribute("pattern") == "GracefulHosting"))
            ?.Attribute("key")?.Value
            ?? throw new InvalidOperationException("The README's NuGet.config maps no source to GracefulHosting");
        var local = config.Root.Element("packageSources")?.Elements("add").SingleOrDefault(e => (string?)e.Attribute("key") == localKey)
            ?? throw new InvalidOperationException($"The README's NuGet.config has no package source '{localKey}'");
        local.SetAttributeValue("value", FeedDirectory);
        config.Save(Path.Combine(app, "NuGet.config"));
        return app;
    }

    /// <summary>The xml block after the <c>local-package-nuget-config</c> marker in README.md.</summary>
    private static XDocument ReadmeNuGetConfig()
    {
        string readme = File.ReadAllText(Path.Combine(ExampleApp.RepositoryRoot, "README.md"));
        var block = Regex.Match(readme, @"<!-- local-package-nuget-config\b[^>]*-->\s*```xml\n(.*?)```", RegexOptions.Singleline);
        if (!block.Success)
        {
            throw new InvalidOperationException("README.md has no xml block after <!-- local-package-nuget-config -->");
        }

        return XDocument.Parse(block.Groups[1].Value);
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        return Task.CompletedTask;
    }
}

using System.Runtime.Versioning;
using System.Text;
using GracefulHosting.Interop;
using GracefulHosting.Master;

namespace GracefulHosting.Tests.Master;

public class ChildCommandTests
{
    private static string[] Parse(string text) => ChildCommand.ParseCmdline(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void ParseCmdline_Empty_NoArguments()
    {
        Assert.Empty(ChildCommand.ParseCmdline([]));
    }

    [Fact]
    public void ParseCmdline_TrailingNul_NoExtraArgument()
    {
        Assert.Equal(["/usr/bin/dotnet", "app.dll", "--urls", "http://*:80"], Parse("/usr/bin/dotnet\0app.dll\0--urls\0http://*:80\0"));
    }

    [Fact]
    public void ParseCmdline_NoTrailingNul_LastArgumentKept()
    {
        Assert.Equal(["./app", "--flag"], Parse("./app\0--flag"));
    }

    [Fact]
    public void ParseCmdline_EmptyArguments_Kept()
    {
        Assert.Equal(["app", "", "x", ""], Parse("app\0\0x\0\0"));
    }

    [Fact]
    public void ParseCmdline_SingleNul_OneEmptyArgument()
    {
        Assert.Equal([""], Parse("\0"));
    }

    [Fact]
    public void ParseCmdline_ArgumentsWithSpacesAndQuotes_Verbatim()
    {
        Assert.Equal(["app", "two words", "\"quoted\"", "a=b;c"], Parse("app\0two words\0\"quoted\"\0a=b;c\0"));
    }

    [Fact]
    public void ParseCmdline_Utf8_Decoded()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes("app"), 0, .. Encoding.UTF8.GetBytes("--name=Grüße 日本 🚀"), 0];

        Assert.Equal(["app", "--name=Grüße 日本 🚀"], ChildCommand.ParseCmdline(bytes));
    }

    [LinuxFact]
    [SupportedOSPlatform("linux")]
    public void FromCurrentProcess_OnLinux_MatchesThisProcess()
    {
        var command = ChildCommand.FromCurrentProcess();

        Assert.False(string.IsNullOrEmpty(command.FileName));
        Assert.Equal(Environment.CurrentDirectory, Libc.RealPath(command.WorkingDirectory));
        Assert.Contains(command.Arguments.Prepend(command.FileName), a => a.Contains("testhost", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(command.Environment);
    }

    [Fact]
    public void StartDirectory_PwdNamesCurrentDirectoryThroughLink_Pwd()
    {
        string result = ChildCommand.StartDirectory("/opt/app/releases/41", "/opt/app/current", ["dotnet", "App.dll"], Links);

        Assert.Equal("/opt/app/current", result);
    }

    [Fact]
    public void StartDirectory_PwdElsewhere_CurrentDirectory()
    {
        string result = ChildCommand.StartDirectory("/opt/app/releases/41", "/home/me", ["dotnet", "App.dll"], Links);

        Assert.Equal("/opt/app/releases/41", result);
    }

    [Theory]
    [InlineData("/opt/app/current/App")]
    [InlineData("/usr/bin/dotnet", "/opt/app/current/App.dll")]
    [InlineData("/usr/bin/dotnet", "--roll-forward", "Major", "/opt/app/current/App.dll", "--urls", "http://*:80")]
    public void StartDirectory_NoPwdAbsoluteAppPathThroughLink_FolderOfThatPath(params string[] argv)
    {
        // systemd sets no PWD; ExecStart= names the program by an absolute path.
        string result = ChildCommand.StartDirectory("/opt/app/releases/41", pwd: null, argv, Links);

        Assert.Equal("/opt/app/current", result);
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("")]
    public void StartDirectory_PwdNotAbsolute_Ignored(string pwd)
    {
        Assert.Equal("/opt/app/releases/41", ChildCommand.StartDirectory("/opt/app/releases/41", pwd, ["./App"], Links));
    }

    [Fact]
    public void StartDirectory_AbsolutePathsElsewhere_CurrentDirectory()
    {
        string result = ChildCommand.StartDirectory("/opt/app/releases/41", null, ["/usr/bin/dotnet", "/etc/app/extra.json", "/opt/app/releases/41/App.dll"], Links);

        Assert.Equal("/opt/app/releases/41", result);
    }

    [Fact]
    public void StartDirectory_PwdWithTrailingSlash_Matches()
    {
        Assert.Equal("/opt/app/current", ChildCommand.StartDirectory("/opt/app/releases/41", "/opt/app/current/", ["./App"], Links));
    }

    [LinuxFact]
    [SupportedOSPlatform("linux")]
    public void StartDirectory_RealSymlinkSwapped_FollowsTheLinkAtEachStart()
    {
        string root = Directory.CreateTempSubdirectory("graceful-release-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "releases", "1"));
            Directory.CreateDirectory(Path.Combine(root, "releases", "2"));
            string current = Path.Combine(root, "current");
            File.CreateSymbolicLink(current, "releases/1");
            string resolved = Libc.RealPath(current)!;

            string start = ChildCommand.StartDirectory(resolved, current, ["dotnet", "App.dll"], Libc.RealPath);
            File.Delete(current);
            File.CreateSymbolicLink(current, "releases/2");

            Assert.Equal(current, start);
            Assert.EndsWith("/releases/1", resolved, StringComparison.Ordinal);
            Assert.EndsWith("/releases/2", Libc.RealPath(start), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A file system where /opt/app/current links to releases/41.</summary>
    private static string? Links(string path) => path switch
    {
        "/opt/app/current" => "/opt/app/releases/41",
        "/opt/app/releases/41" => "/opt/app/releases/41",
        "/home/me" => "/home/me",
        "/usr/bin" => "/usr/lib/dotnet",
        "/etc/app" => "/etc/app",
        _ => null,
    };
}

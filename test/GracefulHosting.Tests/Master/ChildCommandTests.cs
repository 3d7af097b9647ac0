using System.Runtime.Versioning;
using System.Text;
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
        Assert.Equal(Environment.CurrentDirectory, command.WorkingDirectory);
        Assert.Contains(command.Arguments.Prepend(command.FileName), a => a.Contains("testhost", StringComparison.OrdinalIgnoreCase));
    }
}

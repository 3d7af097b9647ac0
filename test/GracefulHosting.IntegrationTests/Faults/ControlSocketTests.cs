using System.Net.Sockets;
using System.Text;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>
/// The master's control socket belongs to the user the service runs as: its file is mode 0600, and a
/// peer of another uid is refused even where the file's mode would let it connect. Whatever a client
/// sends or does ends that client's connection only.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ControlSocketTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ControlSocket_Mode0600AndNeverInheritedByChildren()
    {
        await using var master = MasterProcess.Start(output: output);
        int child = await master.WaitForReadyAsync(1);
        await master.WaitForLineAsync("Control socket on ");

        string path = master.ControlSocket!;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Contains(path, Proc.UnixSockets().Values.Select(s => s.Name));
        var childSockets = Proc.Descriptors(child).Values.Select(Proc.SocketInode).OfType<string>().ToHashSet();
        var unix = Proc.UnixSockets();
        Assert.DoesNotContain(childSockets, inode => unix.TryGetValue(inode, out var s) && s.Name == path);
    }

    /// <remarks>
    /// The folder and file are opened up here, as a careless deploy might, so that only the peer
    /// credentials stand between another user and the master. The other user runs the app's own
    /// status command through setpriv.
    /// </remarks>
    [OtherUserFact]
    public async Task ControlSocket_PeerOfAnotherUid_RefusedEvenWhenTheFileModeAllowsIt()
    {
        using var copy = ExampleApp.CopyToTemp();
        await using var master = MasterProcess.Start(copy.Path, output: output);
        await master.WaitForReadyAsync(1);
        await master.WaitForLineAsync("Control socket on ");
        string path = master.ControlSocket!;
        File.SetUnixFileMode(Path.GetDirectoryName(path)!, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);

        var (exitCode, text) = await ToolProcess.RunAsync("setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", Path.Combine(copy.Path, "HelloGraceful.dll"), "--graceful", "status"],
            copy.Path, TimeSpan.FromMinutes(2),
            new Dictionary<string, string?> { [MasterProcess.ControlSocketVariable] = path, ["DOTNET_CLI_HOME"] = "/tmp", ["HOME"] = "/tmp" });

        Assert.True(exitCode == 1, text);
        Assert.Contains("ERROR permission denied", text, StringComparison.Ordinal);
        Assert.DoesNotContain("generation 1 pid=", text, StringComparison.Ordinal);
        await master.WaitForLineAsync(@"Refused a control socket client: pid \d+ runs as uid 65534");
        var (ownCode, own) = await master.RunCommandAsync("status", copy.Path);
        Assert.True(ownCode == 0, own);
    }

    [Fact]
    public async Task ControlSocket_GarbageSilenceLongLinesAndClientsThatLeave_OnlyThatConnectionEnds()
    {
        await using var master = MasterProcess.Start(output: output);
        int first = await master.WaitForReadyAsync(1);
        await master.WaitForLineAsync("Control socket on ");
        var endpoint = new UnixDomainSocketEndPoint(master.ControlSocket!);

        Assert.StartsWith("ERROR unknown command 'bogus'", await AskAsync(endpoint, "bogus\n"), StringComparison.Ordinal);
        Assert.StartsWith("ERROR unknown command '????'", await AskAsync(endpoint, "\u0001\u0002\u0003\u0004\n"), StringComparison.Ordinal);
        Assert.StartsWith("ERROR no command", await AskAsync(endpoint, new string('x', 10_000)), StringComparison.Ordinal);
        Assert.StartsWith("ERROR no command", await AskAsync(endpoint, ""), StringComparison.Ordinal);

        // Connects and leaves at once; sends half a command and leaves.
        using (var gone = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await gone.ConnectAsync(endpoint);
        }

        using (var half = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await half.ConnectAsync(endpoint);
            await half.SendAsync("rel"u8.ToArray());
        }

        // Asks for a reload and leaves before the answer: the reload still happens.
        using (var impatient = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await impatient.ConnectAsync(endpoint);
            await impatient.SendAsync("reload\n"u8.ToArray());
        }

        int second = await master.WaitForRestartAsync(2);
        string status = await AskAsync(endpoint, "status\n");
        Assert.Contains($"generation 2 pid={second} ", status, StringComparison.Ordinal);
        Assert.EndsWith("OK\n", status, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
        Assert.True(Native.IsAlive(master.Pid) && !master.HasExited, "the master must stay up");
    }

    /// <summary>Sends <paramref name="text"/> and reads the answer until the master closes the connection.</summary>
    private static async Task<string> AskAsync(UnixDomainSocketEndPoint endpoint, string text)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(endpoint);
        if (text.Length > 0)
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(text));
        }

        socket.Shutdown(SocketShutdown.Send);
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset && answer.Length > 0)
        {
            // The master closed with part of a too-long line unread: the answer came before the reset.
        }

        return answer.ToString();
    }
}

/// <summary>
/// A fact that needs to run a process as another user (nobody, through setpriv): it runs when the tests
/// run as root, which build/test.sh and CI do.
/// </summary>
public sealed class OtherUserFactAttribute : FactAttribute
{
    public OtherUserFactAttribute()
    {
        if (Proc.GetEffectiveUserId() != 0)
        {
            Skip = "Only root can start a process as another user (setpriv) to try the control socket's peer check.";
        }
    }
}

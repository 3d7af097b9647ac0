using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using GracefulHosting.IntegrationTests.Faults;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>
/// Deploys as teams make them: each release is a build in a folder of its own under <c>releases/</c>,
/// <c>current</c> is swapped to it, the reload command (<c>App --graceful reload</c>) restarts and says
/// whether the new build serves, and the old folder is deleted. The master decides no endpoint: each
/// generation's own Kestrel, from its own code and settings, asks for what it binds.
/// </summary>
public sealed class DeployTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ReleaseRecipe_EndpointInEachReleasesSettings_EveryReloadServesANewPidAndNothingIsRolledBack()
    {
        using var root = new TempDirectory();
        using var held = new HeldPort();
        string url = $"http://127.0.0.1:{held.Port}";
        string current = Path.Combine(root.Path, "current");
        string one = HelloRelease(root.Path, "one", url);
        File.CreateSymbolicLink(current, "releases/one");
        // As under systemd (WorkingDirectory=.../current, no PWD): the master's own folder is the link.
        await using var master = MasterProcess.Start(current, defaultEndpoint: false, environment: NoPwd, output: output);
        var pids = new List<int> { await master.WaitForReadyAsync(1) };
        using var client = Http.CreateClient(new Uri(url + "/"));
        Assert.Equal(pids[0], await Http.GetPidAsync(client));

        string two = HelloRelease(root.Path, "two", url);
        ExampleApp.SwapLink(current, "releases/two");
        pids.Add(await ReloadAsync(master, current, 2, client));

        // The folder the master started in is gone: later reloads must not notice.
        Directory.Delete(one, recursive: true);
        pids.Add(await ReloadAsync(master, current, 3, client));

        HelloRelease(root.Path, "three", url);
        ExampleApp.SwapLink(current, "releases/three");
        Directory.Delete(two, recursive: true);
        pids.Add(await ReloadAsync(master, current, 4, client));

        Assert.Equal(4, pids.Distinct().Count());
        Assert.False(master.HasLine("rolled back"), master.Output);
        Assert.False(master.HasLine(":5000"), "no default address may ever be bound");
        Assert.Equal([held.Port], ProcNet.ListeningSockets(master.Pid).Values.Select(e => e.Port).Distinct().ToArray());
    }

    /// <summary>
    /// The next release's code (EndpointsApp built with NEXT_RELEASE) listens on a TCP port and a Unix socket
    /// more; the release after it drops them again.
    /// </summary>
    [Fact]
    public async Task NewReleaseCodeAddsTcpEndpointAndUnixSocketThenNextDropsThem_ServedAfterOneReloadThenClosedAndRemoved()
    {
        using var root = new TempDirectory();
        using var held = new HeldPort();
        using var heldNext = new HeldPort();
        string socketPath = Path.Combine(root.Path, "next.sock");
        string current = Path.Combine(root.Path, "current");
        Copy(ExampleApp.TestAppOutput("EndpointsApp"), root.Path, "first");
        Copy(ExampleApp.TestAppOutput("EndpointsAppNext", "EndpointsApp"), root.Path, "next");
        File.CreateSymbolicLink(current, "releases/first");
        string[] arguments = ["--setup=listen-loopback", $"--port={held.Port}", $"--nextPort={heldNext.Port}", $"--nextSocket={socketPath}"];
        await using var master = MasterProcess.Start(current, arguments, defaultEndpoint: false, environment: NoPwd, app: "EndpointsApp", output: output);
        int first = await master.WaitForReadyAsync(1);
        using var client = Http.CreateClient(new Uri($"http://127.0.0.1:{held.Port}/"));

        ExampleApp.SwapLink(current, "releases/next");
        int next = await ReloadAsync(master, current, 2, client, arguments);

        using (var nextClient = Http.CreateClient(new Uri($"http://127.0.0.1:{heldNext.Port}/")))
        {
            string body = await nextClient.GetStringAsync("/");
            Assert.Contains("(next release)", body, StringComparison.Ordinal);
            Assert.Equal(next, Http.ParsePid(body));
        }

        using (var unix = new KeepAliveClient(new UnixDomainSocketEndPoint(socketPath)))
        {
            var (status, body, _) = await unix.GetAsync("/", CancellationToken.None);
            Assert.Equal((200, next), (status, Http.ParsePid(body)));
        }

        Assert.True(Native.IsAlive(master.Pid) && !master.HasLine("Master stopped"), "the master itself is not restarted");
        Assert.NotEqual(first, next);

        // The release after it drops both: they close once generation 2, the last to use them, has exited.
        Copy(ExampleApp.TestAppOutput("EndpointsApp"), root.Path, "third");
        ExampleApp.SwapLink(current, "releases/third");
        Directory.Delete(Path.Combine(root.Path, "releases", "next"), recursive: true);
        await ReloadAsync(master, current, 3, client, arguments);
        await master.WaitForLineAsync($@"Child generation 2 \(pid {next}\) exited");
        await master.WaitForLineAsync($@"Closed listener 127\.0\.0\.1:{heldNext.Port} for 127\.0\.0\.1:{heldNext.Port}");
        await master.WaitForLineAsync($@"Closed listener unix:{Regex.Escape(socketPath)} for unix:{Regex.Escape(socketPath)}");
        Assert.False(File.Exists(socketPath), "the master removes the file of a Unix socket no release asks for");
        Assert.Equal([held.Port], ProcNet.ListeningSockets(master.Pid).Values.Select(e => e.Port).Distinct().ToArray());
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, heldNext.Port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task ReleaseAsksForAPortAnotherProcessHolds_ReloadExits1NamingTheAddressAndTheServingGenerationKeepsEverySocket()
    {
        using var root = new TempDirectory();
        using var held = new HeldPort();
        using var blocker = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blocker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        blocker.Listen();
        int busy = ((IPEndPoint)blocker.LocalEndPoint!).Port;
        string url = $"http://127.0.0.1:{held.Port}";
        string current = Path.Combine(root.Path, "current");
        HelloRelease(root.Path, "one", url);
        File.CreateSymbolicLink(current, "releases/one");
        await using var master = MasterProcess.Start(current, defaultEndpoint: false, environment: NoPwd, output: output);
        int serving = await master.WaitForReadyAsync(1);
        var before = ProcNet.ListeningSockets(serving).Keys.Order().ToList();

        string two = HelloRelease(root.Path, "two", url);
        ExampleApp.EditSettings(two, json => json["Kestrel"]!["Endpoints"]!["Admin"] = new System.Text.Json.Nodes.JsonObject { ["Url"] = $"http://127.0.0.1:{busy}" });
        ExampleApp.SwapLink(current, "releases/two");
        var (exitCode, text) = await master.RunCommandAsync("reload", current);

        Assert.Equal(1, exitCode);
        Assert.Contains($"ERROR generation 2 it exited before it was ready", text, StringComparison.Ordinal);
        Assert.Contains($"Cannot listen on 127.0.0.1:{busy} for Kestrel:Endpoints:Admin:Url = 'http://127.0.0.1:{busy}': the address is already in use by another process",
            text, StringComparison.Ordinal);
        Assert.Contains($"rolled back, Generation 1 (pid {serving}) serving", text, StringComparison.Ordinal);
        Assert.Equal(before, ProcNet.ListeningSockets(serving).Keys.Order().ToList());
        Assert.Equal([held.Port], ProcNet.ListeningSockets(master.Pid).Values.Select(e => e.Port).Distinct().ToArray());
        using var client = Http.CreateClient(new Uri(url + "/"));
        Assert.Equal(serving, await Http.GetPidAsync(client));

        var (statusCode, status) = await master.RunCommandAsync("status", current);
        Assert.Equal(0, statusCode);
        Assert.Matches($@"generation 1 pid={serving} started=\S+ state=serving", status);
        Assert.Matches(@"last-restart at=\S+ result=failed generation 2 it exited before it was ready", status);
    }

    private static readonly Dictionary<string, string?> NoPwd = new() { ["PWD"] = null };

    /// <summary>Reloads with the command a deploy script runs; returns the pid of the generation that serves after it.</summary>
    private static async Task<int> ReloadAsync(MasterProcess master, string current, int generation, HttpClient client, string[]? arguments = null)
    {
        var (exitCode, text) = await master.RunCommandAsync("reload", current, arguments);
        Assert.True(exitCode == 0, text);
        var match = Regex.Match(text, $@"^OK generation {generation} \(pid (\d+)\) serves after \d+ ms$", RegexOptions.Multiline);
        Assert.True(match.Success, text);
        int pid = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(pid, await Http.WaitForPidAsync(client, p => p == pid, TimeSpan.FromSeconds(15)));
        return pid;
    }

    /// <summary>A build of the example in <c>releases/&lt;name&gt;</c> whose appsettings.json names the endpoint.</summary>
    private static string HelloRelease(string root, string name, string url)
    {
        string directory = Copy(ExampleApp.OutputDirectory, root, name);
        ExampleApp.EditSettings(directory, json => json["Kestrel"]!["Endpoints"]!["Http"]!["Url"] = url);
        return directory;
    }

    private static string Copy(string build, string root, string name)
    {
        string directory = Path.Combine(root, "releases", name);
        ExampleApp.CopyDirectory(build, directory);
        return directory;
    }
}

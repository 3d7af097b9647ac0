using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using GracefulHosting.IntegrationTests.Faults;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>
/// On SIGHUP the new generation's Kestrel asks for its own endpoints: the master binds new ones for it
/// and closes those no live generation uses once the old generation has exited.
/// </summary>
public sealed class ListenerReloadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sighup_PortChangedInAppsettings_NewPortServesAndOldPortServesUntilTheSwitch()
    {
        using var copy = ExampleApp.CopyToTemp();
        SetEndpoint(copy.Path, "http://127.0.0.1:0");
        // A slow warm-up keeps the new generation from serving for a while, so the switch is observable.
        await using var master = MasterProcess.Start(copy.Path, ["--GracefulRestart:WarmupPath=/slow?ms=1500"], defaultEndpoint: false, output: output);
        int oldPort = (await master.WaitForAddressAsync()).Port;
        int oldPid = await master.WaitForReadyAsync(1);
        using var oldClient = Http.CreateClient(new Uri($"http://127.0.0.1:{oldPort}/"));
        Assert.Equal(oldPid, await Http.GetPidAsync(oldClient));

        // The new URL needs a port number; the test holds it until the master has bound it.
        using var held = new HeldPort();
        int newPort = held.Port;
        SetEndpoint(copy.Path, $"http://127.0.0.1:{newPort}");
        master.Signal(Native.SIGHUP);
        await master.WaitForLineAsync("Started child generation 2");
        // The new generation binds while it warms up: the master has the new port before the switch.
        await Faulty.WaitUntilAsync(() => ProcNet.ListeningSockets(master.Pid).Values.Any(e => e.Port == newPort), TimeSpan.FromSeconds(30),
            "the master to bind the new port");
        using (var during = Http.CreateClient(new Uri($"http://127.0.0.1:{oldPort}/")))
        {
            Assert.Equal(oldPid, await Http.GetPidAsync(during));
        }

        int newPid = await master.WaitForRestartAsync(2);
        await master.WaitForLineAsync($@"Listening on 127\.0\.0\.1:{newPort} for http://127\.0\.0\.1:{newPort}");
        using var newClient = Http.CreateClient(new Uri($"http://127.0.0.1:{newPort}/"));
        Assert.Equal(newPid, await Http.GetPidAsync(newClient));
        Assert.DoesNotContain(oldPort, ProcNet.ListeningSockets(newPid).Values.Select(e => e.Port));

        await master.WaitForLineAsync($@"Closed listener 127\.0\.0\.1:{oldPort} for 127\.0\.0\.1:0");
        Assert.Equal([newPort], ProcNet.ListeningSockets(master.Pid).Values.Select(e => e.Port).ToArray());
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, oldPort));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Sighup_NewPortAlreadyInUse_RolledBackAndOldPortKeepsServing()
    {
        using var copy = ExampleApp.CopyToTemp();
        using var blocker = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blocker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        blocker.Listen();
        int busyPort = ((IPEndPoint)blocker.LocalEndPoint!).Port;
        SetEndpoint(copy.Path, "http://127.0.0.1:0");
        await using var master = MasterProcess.Start(copy.Path, defaultEndpoint: false, output: output);
        int oldPort = (await master.WaitForAddressAsync()).Port;
        int oldPid = await master.WaitForReadyAsync(1);

        SetEndpoint(copy.Path, $"http://127.0.0.1:{busyPort}");
        master.Signal(Native.SIGHUP);

        await master.WaitForLineAsync($@"Restart rolled back: generation 1 \(pid {oldPid}\) keeps serving; the new generation failed: .*Cannot listen on 127\.0\.0\.1:{busyPort} for Kestrel:Endpoints:Http:Url");
        using var client = Http.CreateClient(new Uri($"http://127.0.0.1:{oldPort}/"));
        Assert.Equal(oldPid, await Http.GetPidAsync(client));
    }

    [Fact]
    public async Task Sighup_UnixEndpointAddedThenRemoved_BoundBeforeTheNewGenerationFileRemovedAfterTheOldOneExits()
    {
        using var copy = ExampleApp.CopyToTemp();
        string path = Path.Combine(copy.Path, "app.sock");
        await using var master = MasterProcess.Start(copy.Path);
        await master.WaitForReadyAsync(1);

        ExampleApp.EditSettings(copy.Path, json => json["Kestrel"]!["Endpoints"]!["Unix"] = new System.Text.Json.Nodes.JsonObject { ["Url"] = $"http://unix:{path}" });
        master.Signal(Native.SIGHUP);
        await master.WaitForLineAsync($@"Listening on unix:{Regex.Escape(path)} for http://unix:{Regex.Escape(path)}");
        int second = await master.WaitForRestartAsync(2);
        using (var client = new KeepAliveClient(new UnixDomainSocketEndPoint(path)))
        {
            var (status, body, _) = await client.GetAsync("/", CancellationToken.None);
            Assert.Equal((200, second), (status, Http.ParsePid(body)));
        }

        ExampleApp.EditSettings(copy.Path, json => json["Kestrel"]!["Endpoints"]!.AsObject().Remove("Unix"));
        master.Signal(Native.SIGHUP);
        await master.WaitForRestartAsync(3);
        await master.WaitForLineAsync($@"Child generation 2 \(pid {second}\) exited");
        await master.WaitForLineAsync($@"Closed listener unix:{Regex.Escape(path)} for unix:{Regex.Escape(path)}");
        Assert.False(File.Exists(path), "the master removes the file of a Unix socket endpoint that is gone");
    }

    private static void SetEndpoint(string appDirectory, string url)
    {
        ExampleApp.EditSettings(appDirectory, json => json["Kestrel"]!["Endpoints"]!["Http"]!["Url"] = url);
    }

}

using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using GracefulHosting.IntegrationTests.Infrastructure;

namespace GracefulHosting.IntegrationTests.Faults;

/// <summary>
/// The master outlives bad deploys: a failed reload never closes a socket that the serving generation
/// uses, a stop during a restart is a stop and not a rollback, and StopFirst restarts leak nothing.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class MasterSurvivalTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    /// <remarks>
    /// The reported sequence: an endpoint is added by a reload, then two reloads fail on a broken
    /// appsettings.json. Each rollback used to close the added endpoint's only socket, and the second
    /// attempt then stopped the master.
    /// </remarks>
    [Fact]
    public async Task Sighup_EndpointAddedThenTwoBrokenReloadsThenFixed_BothPortsServeThroughout()
    {
        using var copy = ExampleApp.CopyToTemp();
        SetEndpoints(copy.Path, ("Http", "http://127.0.0.1:0"));
        await using var master = MasterProcess.Start(copy.Path, defaultEndpoint: false);
        var first = await master.WaitForAddressAsync();
        int pid = await master.WaitForReadyAsync(1);

        SetEndpoints(copy.Path, ("Http", "http://127.0.0.1:0"), ("Second", "http://127.0.0.2:0"));
        master.Signal(Native.SIGHUP);
        var secondMatch = await master.WaitForLineAsync(@"Listening on 127\.0\.0\.2:(\d+) for http://127\.0\.0\.2:\d+");
        var second = new Uri($"http://127.0.0.2:{secondMatch.Groups[1].Value}/");
        int oldPid = pid;
        pid = await master.WaitForRestartAsync(2, Generous);
        await WaitUntilStoppedAcceptingAsync(master, oldPid);
        await AssertServedByAsync(master, pid, first, second);
        string goodSettings = File.ReadAllText(Path.Combine(copy.Path, "appsettings.json"));

        File.WriteAllText(Path.Combine(copy.Path, "appsettings.json"), "{ broken");
        for (int attempt = 1; attempt <= 2; attempt++)
        {
            master.Signal(Native.SIGHUP);
            await master.WaitForLineAsync($@"Restart rolled back: generation 2 \(pid {pid}\) keeps serving", Generous, skip: attempt - 1);
            await AssertServedByAsync(master, pid, first, second);
        }

        File.WriteAllText(Path.Combine(copy.Path, "appsettings.json"), goodSettings);
        master.Signal(Native.SIGHUP);
        int fixedPid = await master.WaitForRestartAsync(5, Generous);
        await WaitUntilStoppedAcceptingAsync(master, pid);
        await AssertServedByAsync(master, fixedPid, first, second);

        Assert.False(master.HasExited, master.Output);
        Assert.False(master.HasLine("Unexpected error in"), master.Output);
        // The serving generation never bound a socket of its own: Kestrel's own reload of the edited
        // endpoints must not bind in a child.
        Assert.False(master.HasLine("Unable to bind"), master.Output);
        Assert.Equal(
            ProcNet.ListeningSockets(master.Pid).Keys.Order().ToArray(),
            ProcNet.ListeningSockets(fixedPid).Keys.Order().ToArray());
    }

    /// <remarks>Kestrel rebinds endpoints whose configuration changes; in a child that must not happen.</remarks>
    [Fact]
    public async Task AppsettingsEdited_EndpointChangedWithoutRestart_ServingChildKeepsItsSocketAndBindsNothing()
    {
        using var copy = ExampleApp.CopyToTemp();
        SetEndpoints(copy.Path, ("Http", "http://127.0.0.1:0"));
        await using var master = MasterProcess.Start(copy.Path, defaultEndpoint: false);
        var address = await master.WaitForAddressAsync();
        int pid = await master.WaitForReadyAsync(1);

        SetEndpoints(copy.Path, ("Http", "http://127.0.0.3:0"), ("Second", "http://127.0.0.2:0"));
        await master.WaitForLineAsync($@"pid {pid} .*The configuration changed; this generation keeps its endpoints", Generous);

        await AssertServedByAsync(master, pid, address);
        // One more request after the change was seen settles any rebind Kestrel might have started.
        await AssertServedByAsync(master, pid, address);
        Assert.False(master.HasLine("Unable to bind|Config changed"), master.Output);
        Assert.Equal(ProcNet.ListeningSockets(master.Pid).Keys.Order().ToArray(), ProcNet.ListeningSockets(pid).Keys.Order().ToArray());
    }

    /// <remarks>
    /// A stop during a restart used to be logged and counted as a rollback, and systemd got READY=1
    /// after STOPPING=1.
    /// </remarks>
    [Fact]
    public async Task Sigterm_DuringRestart_NoRollbackNoReadyAfterStoppingNoNewChild()
    {
        using var copy = ExampleApp.CopyToTemp();
        using var notify = new NotifyReceiver();
        await using var master = MasterProcess.Start(copy.Path, environment: new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = notify.Address });
        await master.WaitForReadyAsync(1);

        Faulty.SetHelloOption(copy.Path, "WarmupMilliseconds", JsonValue.Create(600_000));
        master.Signal(Native.SIGHUP);
        await master.WaitForLineAsync("Warming up for 600000 ms");
        master.Signal(Native.SIGTERM);

        Assert.True(await master.WaitForExitAsync(Generous), "the master did not exit");
        Assert.Equal(0, master.ExitCode);
        Assert.False(master.HasLine("Restart rolled back"), master.Output);
        Assert.False(master.HasLine("Started child generation 3"), master.Output);
        var states = notify.StateChanges;
        int stopping = states.ToList().FindIndex(m => m.Contains("STOPPING=1", StringComparison.Ordinal));
        Assert.True(stopping >= 0, string.Join(" | ", states));
        Assert.DoesNotContain(states.Skip(stopping + 1), m => m.Contains("READY=1", StringComparison.Ordinal));
    }

    /// <remarks>
    /// Once every child has stopped accepting, the master closes its sockets: a new connection is refused
    /// at once instead of waiting in the backlog until the last child exits and then being reset.
    /// </remarks>
    [Fact]
    public async Task Sigterm_SlowRequestInFlight_NewConnectionsRefusedWhileItCompletes()
    {
        await using var master = MasterProcess.Start();
        var address = await master.WaitForAddressAsync();
        int pid = await master.WaitForReadyAsync(1);
        using var client = Http.CreateClient(address);
        var slow = Http.GetPidAsync(client, "/slow?ms=4000");
        await Faulty.WaitUntilAsync(() => ProcNet.ListeningSockets(pid).Count > 0, Generous, "the child to listen");

        master.Signal(Native.SIGTERM);
        await master.WaitForLineAsync("No child accepts any more: closed the 1 listening sockets", Generous);
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(Faulty.EndPoint(address)));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        Assert.Equal(pid, await slow);
        Assert.True(await master.WaitForExitAsync(Generous), "the master did not exit");
        Assert.Equal(0, master.ExitCode);
    }

    /// <summary>The old generation takes connections until it has closed its listening descriptors.</summary>
    private static Task WaitUntilStoppedAcceptingAsync(MasterProcess master, int pid) =>
        master.WaitForLineAsync($@"pid {pid} .*Stopping: no new connections", Generous);

    private static async Task AssertServedByAsync(MasterProcess master, int pid, params Uri[] addresses)
    {
        foreach (var address in addresses)
        {
            using var client = Http.CreateClient(address);
            int served = await Http.GetPidAsync(client);
            Assert.True(served == pid, $"{address} was served by pid {served}, expected {pid}. Output:\n{master.Output}");
        }
    }

    private static void SetEndpoints(string appDirectory, params (string Name, string Url)[] endpoints)
    {
        ExampleApp.EditSettings(appDirectory, json =>
        {
            var all = new JsonObject();
            foreach (var (name, url) in endpoints)
            {
                all[name] = new JsonObject { ["Url"] = url };
            }

            json["Kestrel"] = new JsonObject { ["Endpoints"] = all };
        });
    }
}

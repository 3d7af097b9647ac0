using System.Net;
using System.Net.Sockets;
using GracefulHosting.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace GracefulHosting.IntegrationTests;

/// <summary>
/// Apps that name their endpoints the usual ways, in code or on the command line (test/apps/EndpointsApp):
/// the master binds exactly what their Kestrel binds, every generation serves on the inherited sockets
/// and binds none itself, and restarts lose no request of clients that never retry.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EndpointSetupTests(ITestOutputHelper output)
{
    /// <param name="setup">listen-loopback: <c>Listen(Loopback)</c> in <c>ConfigureKestrel</c>; run-url: <c>app.Run(url)</c>; use-urls: <c>UseUrls</c>.</param>
    [Theory]
    [InlineData("listen-loopback")]
    [InlineData("run-url")]
    [InlineData("use-urls")]
    public async Task OneLoopbackEndpointInCode_MasterBindsItAndRestartsLoseNoRequest(string setup)
    {
        using var held = new HeldPort();
        int port = held.Port;
        await using var master = Start(setup, $"--port={port}");

        await AssertServesAndRestartsAsync(master, [new IPEndPoint(IPAddress.Loopback, port)], [Tcp(IPAddress.Loopback, port)]);
    }

    [Fact]
    public async Task ListenAnyIP_MasterBindsOneDualModeSocketAndRestartsLoseNoRequest()
    {
        using var held = new HeldPort();
        int port = held.Port;
        await using var master = Start("listen-any-ip", $"--port={port}");

        await AssertServesAndRestartsAsync(master, [new IPEndPoint(IPAddress.IPv6Any, port)],
            [Tcp(IPAddress.Loopback, port), Tcp(IPAddress.IPv6Loopback, port)]);
    }

    [Fact]
    public async Task ListenLocalhost_MasterBindsBothLoopbacksAndRestartsLoseNoRequestOnEither()
    {
        using var held = new HeldPort();
        int port = held.Port;
        await using var master = Start("listen-localhost", $"--port={port}");

        await AssertServesAndRestartsAsync(master,
            [new IPEndPoint(IPAddress.Loopback, port), new IPEndPoint(IPAddress.IPv6Loopback, port)],
            [Tcp(IPAddress.Loopback, port), Tcp(IPAddress.IPv6Loopback, port)]);
        Assert.True(master.HasLine($@"Listening on \[::1\]:{port} for http://localhost:{port}"), master.Output);
    }

    [Fact]
    public async Task HttpsInCode_MasterBindsItAndRestartsLoseNoTlsRequest()
    {
        using var temp = new TempDirectory();
        string certificate = Path.Combine(temp.Path, "localhost.pfx");
        TestCertificate.WriteSelfSigned(certificate, "secret");
        using var held = new HeldPort();
        int port = held.Port;
        await using var master = Start("https-code", $"--port={port}", $"--certificate={certificate}", "--certificatePassword=secret");

        await AssertServesAndRestartsAsync(master, [new IPEndPoint(IPAddress.Loopback, port)], [(new IPEndPoint(IPAddress.Loopback, port), true)]);
        Assert.True(master.HasLine($@"Listening on 127\.0\.0\.1:{port} for https://127\.0\.0\.1:{port}"), master.Output);
    }

    [Fact]
    public async Task UnixSocketBesideTcp_BothServedAcrossRestartsFileKeptUntilMasterStops()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "app.sock");
        using var held = new HeldPort();
        int port = held.Port;
        await using var master = Start("unix-and-tcp", $"--port={port}", $"--socket={path}");

        await AssertServesAndRestartsAsync(master, [new IPEndPoint(IPAddress.Loopback, port)],
            [(new UnixDomainSocketEndPoint(path), false), Tcp(IPAddress.Loopback, port)]);

        // Two generations have exited by now, and none took the file with it.
        Assert.True(File.Exists(path), "an exiting child must not unlink the socket file");
        Assert.Equal([path], ProcNet.ListeningUnixSockets(master.Pid).Values.ToArray());
        Assert.Equal(ModeOfSocketBoundHere(temp.Path), File.GetUnixFileMode(path));
        Assert.True(master.HasLine($@"Listening on unix:{Escape(path)} for http://unix:{Escape(path)}"), master.Output);

        master.Signal(Native.SIGTERM);
        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, master.ExitCode);
        Assert.False(File.Exists(path), "the master removes the socket file when it stops");
    }

    [Fact]
    public async Task UnixSocket_StaleFileOfKilledMaster_RemovedAndServed()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "app.sock");
        using var held = new HeldPort();
        int port = held.Port;
        await using (var crashed = Start("unix-and-tcp", $"--port={port}", $"--socket={path}"))
        {
            await crashed.WaitForReadyAsync(1);
            var pids = crashed.AllPids();
            crashed.Signal(Native.SIGKILL);
            // Its children see the master gone and exit; the file stays behind with nobody listening.
            await Faults.Faulty.WaitUntilAsync(() => !pids.Any(Native.IsAlive), MasterProcess.DefaultTimeout, "the killed master's processes to exit");
        }

        Assert.True(File.Exists(path));
        await using var master = Start("unix-and-tcp", $"--port={port}", $"--socket={path}");
        int child = await master.WaitForReadyAsync(1);

        Assert.True(master.HasLine($"Removed the Unix socket file {Escape(path)}: nothing accepted on it"), master.Output);
        using var client = new KeepAliveClient(new UnixDomainSocketEndPoint(path));
        var (status, body, _) = await client.GetAsync("/", CancellationToken.None);
        Assert.Equal(200, status);
        Assert.Equal(child, Http.ParsePid(body));
    }

    [Fact]
    public async Task UnixSocket_FileInUseByAnotherServer_ExitsNonZeroAndLeavesIt()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "app.sock");
        using var other = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        other.Bind(new UnixDomainSocketEndPoint(path));
        other.Listen();

        using var held = new HeldPort();
        await using var master = Start("unix-and-tcp", $"--port={held.Port}", $"--socket={path}");

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        // The app does not catch the error, so the runtime ends it as any unhandled exception.
        Assert.NotEqual(0, master.ExitCode);
        Assert.Contains($"Cannot listen on unix:{path} for an endpoint set in code: another process listens on this socket file.", master.Output, StringComparison.Ordinal);
        master.AssertFirstGenerationFailed();
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task UnixSocket_PathIsARegularFile_ExitsNonZeroAndLeavesIt()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "app.sock");
        await File.WriteAllTextAsync(path, "not a socket");

        using var held = new HeldPort();
        await using var master = Start("unix-and-tcp", $"--port={held.Port}", $"--socket={path}");

        Assert.True(await master.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        // The app does not catch the error, so the runtime ends it as any unhandled exception.
        Assert.NotEqual(0, master.ExitCode);
        Assert.Contains($"Cannot listen on unix:{path} for an endpoint set in code: the path exists and is not a socket", master.Output, StringComparison.Ordinal);
        Assert.Equal("not a socket", await File.ReadAllTextAsync(path));
    }

    private static MasterProcess Start(string setup, params string[] arguments) =>
        MasterProcess.Start(arguments: [$"--setup={setup}", .. arguments], defaultEndpoint: false, app: "EndpointsApp");

    private static (EndPoint Server, bool Tls) Tcp(IPAddress address, int port) => (new IPEndPoint(address, port), false);

    /// <summary>
    /// Checks that the master listens on exactly <paramref name="tcp"/> and that each generation serves
    /// on the master's sockets only; then restarts twice while clients on every one of
    /// <paramref name="servers"/> send requests, and checks that none failed.
    /// </summary>
    private async Task AssertServesAndRestartsAsync(MasterProcess master, IPEndPoint[] tcp, (EndPoint Server, bool Tls)[] servers)
    {
        int first = await master.WaitForReadyAsync(1);
        var masterSockets = ProcNet.ListeningSockets(master.Pid);
        Assert.Equal(tcp.Select(e => e.ToString()).Order(), masterSockets.Values.Select(e => e.ToString()).Order());
        Assert.Equal(masterSockets.Keys.Order(), ProcNet.ListeningSockets(first).Keys.Order());
        Assert.Equal(ProcNet.ListeningUnixSockets(master.Pid).Keys.Order(), ProcNet.ListeningUnixSockets(first).Keys.Order());

        var loads = servers.Select(s => new KeepAliveLoad(s.Server, clients: 3, s.Tls)).ToList();
        try
        {
            int last = first;
            for (int generation = 2; generation <= 3; generation++)
            {
                await Faults.Faulty.WaitUntilAsync(() => loads.All(l => l.Succeeded > 10), MasterProcess.DefaultTimeout, "every client to be served");
                master.Signal(Native.SIGHUP);
                last = await master.WaitForRestartAsync(generation);
                await master.WaitForLineAsync(@"Child generation \d+ \(pid \d+\) exited", skip: generation - 2);
            }

            int before = loads.Sum(l => l.Succeeded);
            await Faults.Faulty.WaitUntilAsync(() => loads.All(l => l.HasServed(last)) && loads.Sum(l => l.Succeeded) > before + 10, MasterProcess.DefaultTimeout, "the last generation to serve every client");
            foreach (var load in loads)
            {
                await load.StopAsync();
            }

            for (int i = 0; i < servers.Length; i++)
            {
                output.WriteLine($"{servers[i].Server}: {loads[i].Succeeded} requests, {loads[i].Failures.Count} failed, {loads[i].Pids.Count} generations answered");
                Assert.True(loads[i].Failures.Count == 0, $"{servers[i].Server}: {string.Join("; ", loads[i].Failures.Take(5))}\n{master.Output}");
                Assert.Contains(first, loads[i].Pids);
            }

            Assert.Equal(masterSockets.Keys.Order(), ProcNet.ListeningSockets(last).Keys.Order());
        }
        finally
        {
            foreach (var load in loads)
            {
                await load.DisposeAsync();
            }
        }
    }

    /// <summary>The mode a Unix socket file gets when this process binds one, with the umask the master inherits.</summary>
    private static UnixFileMode ModeOfSocketBoundHere(string directory)
    {
        string path = Path.Combine(directory, "reference.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        // Disposing the socket that bound the file removes it again.
        return File.GetUnixFileMode(path);
    }

    private static string Escape(string text) => System.Text.RegularExpressions.Regex.Escape(text);
}

using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Endpoints;
using GracefulHosting.Master;
using GracefulHosting.Tests.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace GracefulHosting.Tests.Master;

/// <summary>Binding with the app's real Kestrel deciding, on real sockets of 127.0.0.1 and in a temporary folder.</summary>
[SupportedOSPlatform("linux")]
public sealed class ListenSocketSetTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gh-sockets-").FullName;
    private readonly ProbeApps _apps = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _apps.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [LinuxFact]
    public async Task BindAsync_PortZeroInCode_OneListeningSocketNamedByTheRequest()
    {
        var (_, probe) = App(kestrel: k => k.Listen(IPAddress.Loopback, 0));

        using var set = await ListenSocketSet.BindAsync(probe, NullLogger.Instance, CancellationToken.None);

        var listener = Assert.Single(set.Listeners);
        Assert.Equal("127.0.0.1:0", listener.Endpoint);
        Assert.NotEqual(0, ((IPEndPoint)listener.Socket.LocalEndPoint!).Port);
        Assert.Equal(ListenerOrigin.Bound, listener.Origin);
        Assert.False(set.FromSystemd);
    }

    [LinuxFact]
    public async Task RebindAsync_NothingChanged_KeepsEverySocketAndAddsNone()
    {
        var (_, probe) = App(kestrel: k => k.Listen(IPAddress.Loopback, 0));
        using var set = await ListenSocketSet.BindAsync(probe, NullLogger.Instance, CancellationToken.None);

        var next = await set.RebindAsync(probe, NullLogger.Instance, CancellationToken.None);

        Assert.Same(set, next.Next);
        Assert.Same(set.Listeners[0], Assert.Single(next.Next.Listeners));
        Assert.Empty(next.Added);
        Assert.Empty(next.Removed);
    }

    [LinuxFact]
    public async Task RebindAsync_UrlChangedInConfiguration_BindsTheNewOneAndLeavesTheOldOpen()
    {
        var (app, probe) = App();
        app.Configuration["urls"] = "http://127.0.0.1:0";
        using var set = await ListenSocketSet.BindAsync(probe, NullLogger.Instance, CancellationToken.None);
        string socketPath = Path.Combine(_directory, "new.sock");

        app.Configuration["urls"] = $"http://unix:{socketPath}";
        var next = await set.RebindAsync(probe, NullLogger.Instance, CancellationToken.None);

        var added = Assert.Single(next.Added);
        Assert.Same(added, Assert.Single(next.Next.Listeners));
        Assert.Same(set.Listeners[0], Assert.Single(next.Removed));
        Assert.Equal($"unix:{socketPath}", added.Endpoint);
        Assert.True(File.Exists(socketPath));
        Assert.True(set.Listeners[0].Socket.IsBound, "the old socket stays open until the caller closes it");
        ListenSocketSet.Close(next.Next.Listeners, NullLogger.Instance);
        Assert.False(File.Exists(socketPath), "closing a Unix socket the master bound removes its file");
    }

    [LinuxFact]
    public async Task RebindAsync_SecondNewEndpointInUse_ClosesTheFirstAgainAndThrowsNamingTheSetting()
    {
        using var busy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        busy.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        busy.Listen();
        int port = ((IPEndPoint)busy.LocalEndPoint!).Port;
        var (app, probe) = App();
        app.Configuration["urls"] = "http://127.0.0.1:0";
        using var set = await ListenSocketSet.BindAsync(probe, NullLogger.Instance, CancellationToken.None);
        string socketPath = Path.Combine(_directory, "first.sock");

        app.Configuration["urls"] = $"http://unix:{socketPath};http://127.0.0.1:{port}";
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => set.RebindAsync(probe, NullLogger.Instance, CancellationToken.None));

        Assert.Equal($"Cannot listen on 127.0.0.1:{port} for urls = 'http://127.0.0.1:{port}': the address is already in use by another process.", e.Message);
        Assert.False(File.Exists(socketPath), "what the failed rebind bound is closed again");
    }

    [LinuxFact]
    public async Task BindAsync_StaleUnixSocketFile_RemovedAndBound()
    {
        string path = Path.Combine(_directory, "stale.sock");
        LeaveStaleSocketFile(path);
        var (_, probe) = App(kestrel: k => k.ListenUnixSocket(path));

        using var set = await ListenSocketSet.BindAsync(probe, NullLogger.Instance, CancellationToken.None);

        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        Assert.Equal($"unix:{path}", Assert.Single(set.Listeners).Endpoint);
    }

    [LinuxFact]
    public async Task BindAsync_UnixSocketFileSomeoneListensOn_ThrowsAndLeavesIt()
    {
        string path = Path.Combine(_directory, "live.sock");
        using var other = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        other.Bind(new UnixDomainSocketEndPoint(path));
        other.Listen();
        var (_, probe) = App(kestrel: k => k.ListenUnixSocket(path));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ListenSocketSet.BindAsync(probe, NullLogger.Instance, CancellationToken.None));

        Assert.Equal($"Cannot listen on unix:{path} for an endpoint set in code: another process listens on this socket file.", e.Message);
        Assert.IsType<AddressInUseException>(e.InnerException?.InnerException);
        Assert.True(File.Exists(path));
    }

    [LinuxFact]
    public async Task Dispose_BoundUnixSocket_RemovesItsFile()
    {
        string path = Path.Combine(_directory, "app.sock");
        var (_, probe) = App(kestrel: k => k.ListenUnixSocket(path));
        var set = await ListenSocketSet.BindAsync(probe, NullLogger.Instance, CancellationToken.None);
        Assert.True(File.Exists(path));

        set.Dispose();

        Assert.False(File.Exists(path));
    }

    [LinuxFact]
    public async Task CreateMarker_Listeners_EachDescriptorWithItsEndpoint()
    {
        var (_, probe) = App(kestrel: k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.ListenUnixSocket(Path.Combine(_directory, "m.sock"));
        });
        using var set = await ListenSocketSet.BindAsync(probe, NullLogger.Instance, CancellationToken.None);

        var marker = set.CreateMarker(generation: 7, controlFd: 42);

        Assert.Equal(7, marker.Generation);
        Assert.Equal(42, marker.ControlFd);
        Assert.Equal(set.Listeners.Select(l => (l.Fd, l.Endpoint)), marker.Listeners.Select(l => (l.Fd, l.Endpoint)));
        Assert.Empty(marker.HostingUrls);
    }

    private (WebApplication App, KestrelEndpointProbe Probe) App(Action<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>? kestrel = null) =>
        _apps.Create(kestrel: kestrel);

    /// <summary>A socket file nothing listens on, as a process that was killed leaves it.</summary>
    private static void LeaveStaleSocketFile(string path)
    {
        string bound = path + ".bound";
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(bound));
        // Disposing the socket removes the file by the name it was bound to, which is gone by then.
        File.Move(bound, path);
    }
}

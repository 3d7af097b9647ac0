using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Interop;
using GracefulHosting.Master.Sockets;
using GracefulHosting.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Master.Sockets;

/// <summary>The table binding what generations ask for, on real sockets of 127.0.0.1 port 0 and in a temporary folder.</summary>
[SupportedOSPlatform("linux")]
public sealed class SocketTableTests : IDisposable
{
    private const string Setting = "urls = 'http://127.0.0.1:0'";

    private readonly string _directory = Directory.CreateTempSubdirectory("gh-table-").FullName;
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var item in Enumerable.Reverse(_owned))
        {
            item.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [LinuxFact]
    public void Acquire_PortZeroOnLoopback_GrantsAListeningSocketOfItsOwn()
    {
        var table = Table();

        int fd = table.Acquire(1, Request("127.0.0.1:0"), out var reply);

        Assert.True(reply.Granted);
        Assert.Equal("127.0.0.1:0", reply.Endpoint);
        Assert.True(IsListening(fd));
        Assert.True(IsCloseOnExec(fd));
        var local = Assert.IsType<IPEndPoint>(LocalOf(fd));
        Assert.Equal(IPAddress.Loopback, local.Address);
        Assert.NotEqual(0, local.Port);
        Assert.Equal(1, table.Count);
        Assert.False(table.FromSystemd);
        Assert.Empty(table.SystemdUrls);
    }

    [LinuxFact]
    public void Acquire_SameRequestFromNextGeneration_SameSocket()
    {
        var table = Table();
        int first = Granted(table, 1, "127.0.0.1:0");

        int next = Granted(table, 2, "127.0.0.1:0");

        Assert.Equal(first, next);
        Assert.Equal(1, table.Count);
    }

    [LinuxFact]
    public void Acquire_SameEndpointTwiceInOneGeneration_SecondSocketWhichTheNextGenerationGetsToo()
    {
        var table = Table();
        int a = Granted(table, 1, "127.0.0.1:0");
        int b = Granted(table, 1, "127.0.0.1:0");

        int nextA = Granted(table, 2, "127.0.0.1:0");
        int nextB = Granted(table, 2, "127.0.0.1:0");

        Assert.NotEqual(a, b);
        Assert.NotEqual(((IPEndPoint)LocalOf(a)!).Port, ((IPEndPoint)LocalOf(b)!).Port);
        Assert.Equal([a, b], new[] { nextA, nextB }.Order());
        Assert.Equal(2, table.Count);
    }

    [LinuxFact]
    public async Task Acquire_SecondEndpointOnAUnixSocket_ItsOwnSocketServingThePath()
    {
        var table = Table();
        string path = Path.Combine(_directory, "app.sock");
        int tcp = Granted(table, 1, "127.0.0.1:0");

        int unix = Granted(table, 1, "unix:" + path);

        Assert.NotEqual(tcp, unix);
        Assert.Equal(path, LocalOf(unix)!.ToString());
        Assert.True(File.Exists(path));
        await AssertAcceptsAsync(View(unix), new UnixDomainSocketEndPoint(path));
        Assert.Equal(2, table.Count);
    }

    [LinuxFact]
    public void Acquire_AddressInUse_RefusedAsInUseNamingTheEndpointAndItsSetting()
    {
        using var busy = ListeningTcp();
        int port = Port(busy);
        var table = Table();

        int fd = table.Acquire(1, new SocketRequest($"127.0.0.1:{port}", "Web", $"Kestrel:Endpoints:Web:Url = 'http://127.0.0.1:{port}'"), out var reply);

        Assert.Equal(-1, fd);
        Assert.False(reply.Granted);
        Assert.Equal(SocketRefusal.InUse, reply.Refusal);
        Assert.Equal($"Cannot listen on 127.0.0.1:{port} for Kestrel:Endpoints:Web:Url = 'http://127.0.0.1:{port}': the address is already in use by another process.", reply.Error);
        Assert.Equal(0, table.Count);
    }

    [LinuxFact]
    public void Acquire_PathIsAFile_RefusedAsOtherNamingTheEndpointAndItsSetting()
    {
        string path = Path.Combine(_directory, "file.sock");
        File.WriteAllText(path, "not a socket");
        var table = Table();

        int fd = table.Acquire(1, new SocketRequest("unix:" + path, null, "urls = 'http://unix:" + path + "'"), out var reply);

        Assert.Equal(-1, fd);
        Assert.Equal(SocketRefusal.Other, reply.Refusal);
        Assert.Equal($"Cannot listen on unix:{path} for urls = 'http://unix:{path}': the path exists and is not a socket; remove it or choose another path.", reply.Error);
        Assert.Equal("not a socket", File.ReadAllText(path));
        Assert.Equal(0, table.Count);
    }

    [LinuxFact]
    public async Task Release_ServingGenerationExits_ItsSocketsAreKeptForTheNext()
    {
        // StopFirst, or a crash: the serving generation is gone before the next one asks.
        var table = Table();
        string path = Path.Combine(_directory, "kept.sock");
        int tcp = Granted(table, 1, "127.0.0.1:0");
        int unix = Granted(table, 1, "unix:" + path);
        table.Serving(1, ["http://127.0.0.1:1"]);

        table.Release(1);

        Assert.Equal(2, table.Count);
        Assert.True(IsListening(tcp));
        Assert.True(File.Exists(path));
        await AssertAcceptsAsync(View(tcp), LocalOf(tcp)!);
        Assert.Equal(tcp, Granted(table, 2, "127.0.0.1:0"));
        Assert.Equal(unix, Granted(table, 2, "unix:" + path));
    }

    [LinuxFact]
    public async Task Release_OlderGenerationHeldASocketTheNewOneDoesNotUse_ClosedOnceTheOlderExits()
    {
        var table = Table();
        string dropped = Path.Combine(_directory, "dropped.sock");
        int kept = Granted(table, 1, "127.0.0.1:0");
        int droppedTcp = Granted(table, 1, "127.0.0.1:0");
        Granted(table, 1, "unix:" + dropped);
        var droppedAddress = LocalOf(droppedTcp)!;
        table.Serving(1, []);
        Assert.Equal(kept, Granted(table, 2, "127.0.0.1:0"));

        table.Serving(2, []);

        Assert.Equal(3, table.Count);
        Assert.True(File.Exists(dropped), "the older generation still holds it");

        table.Release(1);

        Assert.Equal(1, table.Count);
        Assert.False(File.Exists(dropped), "closing a Unix socket the table bound removes its file");
        Assert.True(Refuses(droppedAddress));
        await AssertAcceptsAsync(View(kept), LocalOf(kept)!);
    }

    [LinuxFact]
    public async Task Release_GenerationThatNeverServed_ClosesOnlyWhatWasBoundForIt()
    {
        var table = Table();
        string path = Path.Combine(_directory, "failed.sock");
        int serving = Granted(table, 1, "127.0.0.1:0");
        table.Serving(1, []);
        Assert.Equal(serving, Granted(table, 2, "127.0.0.1:0"));
        int boundForTwo = Granted(table, 2, "127.0.0.1:0");
        Granted(table, 2, "unix:" + path);
        var boundForTwoAddress = LocalOf(boundForTwo)!;

        table.Release(2);

        Assert.Equal(1, table.Count);
        Assert.False(File.Exists(path));
        Assert.True(Refuses(boundForTwoAddress));
        await AssertAcceptsAsync(View(serving), LocalOf(serving)!);
    }

    [LinuxFact]
    public void Release_FirstGenerationNeverServed_ClosesEverything()
    {
        var table = Table();
        int fd = Granted(table, 1, "127.0.0.1:0");
        var address = LocalOf(fd)!;

        table.Release(1);

        Assert.Equal(0, table.Count);
        Assert.True(Refuses(address));
    }

    [LinuxFact]
    public void Release_OtherGenerationStillHoldsTheSocket_KeptOpen()
    {
        var table = Table();
        int fd = Granted(table, 1, "127.0.0.1:0");
        Granted(table, 2, "127.0.0.1:0");

        table.Release(2);

        Assert.Equal(1, table.Count);
        Assert.True(IsListening(fd));
    }

    [LinuxFact]
    public async Task Acquire_StaleUnixSocketFile_ReplacedAndServed()
    {
        string path = Path.Combine(_directory, "stale.sock");
        LeaveStaleSocketFile(path);
        var table = Table();

        int fd = Granted(table, 1, "unix:" + path);

        await AssertAcceptsAsync(View(fd), new UnixDomainSocketEndPoint(path));
    }

    [LinuxFact]
    public async Task Acquire_UnixSocketFileSomeoneListensOn_RefusedAsInUseAndLeavesIt()
    {
        string path = Path.Combine(_directory, "live.sock");
        using var other = ListeningUnix(path);
        var table = Table();

        int fd = table.Acquire(1, new SocketRequest("unix:" + path, null, "an endpoint set in code"), out var reply);

        Assert.Equal(-1, fd);
        Assert.Equal(SocketRefusal.InUse, reply.Refusal);
        Assert.Equal($"Cannot listen on unix:{path} for an endpoint set in code: another process listens on this socket file.", reply.Error);
        Assert.True(File.Exists(path));
        await AssertAcceptsAsync(other, new UnixDomainSocketEndPoint(path));
    }

    [LinuxFact]
    public async Task Acquire_ListenHandleTheMasterInherited_AdoptsThatDescriptorKeepsItAndClosesItWithoutShutdown()
    {
        using var original = ListeningTcp();
        int inherited = Duplicate(original);
        Assert.Equal(0, Libc.SetCloseOnExec(inherited, closeOnExec: false));
        var table = Own(SocketTable.ForBinding([inherited], NullLogger.Instance));

        int fd = Granted(table, 1, $"fd:{inherited}");

        Assert.Equal(inherited, fd);
        Assert.True(IsCloseOnExec(fd), "adopted descriptors are kept from the app's subprocesses");
        table.Release(1);
        Assert.Equal(1, table.Count);
        table.Dispose();
        Assert.Equal(0, table.Count);
        // Closed with close(2): a shutdown(2) would have stopped the original's copy too.
        await AssertAcceptsAsync(original, original.LocalEndPoint!);
    }

    [LinuxFact]
    public void Acquire_ListenHandleNotInherited_RefusedAndLeftAlone()
    {
        using var other = ListeningTcp();
        int fd = Fd(other);
        var table = Table();

        int granted = table.Acquire(1, new SocketRequest($"fd:{fd}", null, "an endpoint set in code"), out var reply);

        Assert.Equal(-1, granted);
        Assert.Equal(SocketRefusal.Other, reply.Refusal);
        Assert.Equal($"Cannot listen on fd:{fd} for an endpoint set in code: descriptor {fd} is not a listening socket the master inherited when it started.", reply.Error);
        Assert.True(IsListening(fd));
        Assert.Equal(0, table.Count);
    }

    [LinuxFact]
    public void CloseBound_SocketsHeldAndServing_ClosesEveryOneTheTableBound()
    {
        var table = Table();
        string path = Path.Combine(_directory, "bound.sock");
        int tcp = Granted(table, 1, "127.0.0.1:0");
        Granted(table, 1, "unix:" + path);
        var address = LocalOf(tcp)!;
        table.Serving(1, []);

        int closed = table.CloseBound();

        Assert.Equal(2, closed);
        Assert.Equal(0, table.Count);
        Assert.True(Refuses(address));
        Assert.False(File.Exists(path));
    }

    [LinuxFact]
    public void Dispose_BoundUnixSocket_RemovesItsFile()
    {
        string path = Path.Combine(_directory, "disposed.sock");
        var table = SocketTable.ForBinding([], NullLogger.Instance);
        Granted(table, 1, "unix:" + path);
        Assert.True(File.Exists(path));

        table.Dispose();

        Assert.False(File.Exists(path));
        Assert.Equal(0, table.Count);
    }

    [LinuxFact]
    public void Dispose_SocketFileReplacedByAnotherMaster_LeavesTheOtherOnesFile()
    {
        string path = Path.Combine(_directory, "replaced.sock");
        var table = SocketTable.ForBinding([], NullLogger.Instance);
        Granted(table, 1, "unix:" + path);
        // Another master of the app, started by hand, found the file and took the path over.
        File.Delete(path);
        using var other = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        other.Bind(new UnixDomainSocketEndPoint(path));
        other.Listen();

        table.Dispose();

        Assert.True(File.Exists(path), "the file is the other master's");
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(path));
    }

    [LinuxFact]
    public async Task Acquire_StaleSocketFileWhileAnotherMasterHoldsTheFolder_WaitsAndLeavesTheFileUntilThen()
    {
        string path = Path.Combine(_directory, "contended.sock");
        CreateStaleSocketFile(path);
        var table = Table();
        int held = Libc.LockFolder(_directory);
        Assert.True(held >= 0);
        Task<int> acquire;
        try
        {
            acquire = Task.Run(() => Granted(table, 1, "unix:" + path));
            await WaitUntilBlockedOnFlockAsync(held);
            Assert.True(File.Exists(path), "the stale file must not be removed while another master checks the folder");
            Assert.False(acquire.IsCompleted);
        }
        finally
        {
            Libc.Close(held);
        }

        int fd = await acquire.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(IsListening(fd));
        Assert.Equal(path, ((UnixDomainSocketEndPoint)LocalOf(fd)!).ToString());
    }

    /// <summary>A socket file nothing listens on, as a master killed with SIGKILL leaves.</summary>
    private static void CreateStaleSocketFile(string path)
    {
        Assert.Equal(0, Libc.BindUnixStream(path, out int fd));
        Libc.Close(fd);
        Assert.True(File.Exists(path));
    }

    /// <summary>Waits until a flock request blocks behind the lock held on <paramref name="held"/>'s file (/proc/locks shows it with "->").</summary>
    private static async Task WaitUntilBlockedOnFlockAsync(int held)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.ReadAllLines("/proc/locks").Any(l => l.Contains("->", StringComparison.Ordinal) && l.Contains("FLOCK", StringComparison.Ordinal) &&
            l.Contains($" {Environment.ProcessId} ", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "no flock request blocked: " + File.ReadAllText("/proc/locks"));
            await Task.Delay(10);
        }

        GC.KeepAlive(held);
    }

    private SocketTable Table() => Own(SocketTable.ForBinding([], NullLogger.Instance));

    private static SocketRequest Request(string endpoint, string? name = null) => new(endpoint, name, Setting);

    private static int Granted(SocketTable table, int holder, string endpoint)
    {
        int fd = table.Acquire(holder, Request(endpoint), out var reply);
        Assert.True(reply.Granted, reply.Error);
        Assert.Equal(endpoint, reply.Endpoint);
        Assert.True(fd >= 0);
        return fd;
    }

    /// <summary>A view of a descriptor the table owns, to accept on it; disposing it leaves the descriptor open.</summary>
    private Socket View(int fd) => Own(new Socket(new SafeSocketHandle(fd, ownsHandle: false)));

    private T Own<T>(T item)
        where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }
}

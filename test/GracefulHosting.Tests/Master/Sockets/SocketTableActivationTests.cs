using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Interop;
using GracefulHosting.Master.Sockets;
using GracefulHosting.Protocol;
using GracefulHosting.Systemd;
using Microsoft.Extensions.Logging.Abstractions;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Master.Sockets;

/// <summary>
/// The table under socket activation. The "systemd" sockets are real listening sockets of 127.0.0.1 that
/// the test owns; the table gets duplicates of their descriptors, as systemd passes its own copies.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class SocketTableActivationTests : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<ActivatedSocket> _activated = [];

    public void Dispose()
    {
        foreach (var item in Enumerable.Reverse(_owned))
        {
            item.Dispose();
        }
    }

    [LinuxFact]
    public void ForActivation_ListeningSockets_FromSystemdWithTheirUrls()
    {
        var (first, _) = Passed(null);
        var (second, _) = Passed("Web");

        var table = Table();

        Assert.True(table.FromSystemd);
        Assert.Equal(2, table.Count);
        Assert.Equal([$"http://127.0.0.1:{Port(first)}", $"http://127.0.0.1:{Port(second)}"], table.SystemdUrls);
    }

    [LinuxFact]
    public void ForActivation_SocketNotListening_ThrowsNamingTheDescriptor()
    {
        Passed(null);
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int fd = Duplicate(bound);
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() =>
                SocketTable.ForActivation(new SocketActivation([.. _activated, new ActivatedSocket(fd, "Web")]), NullLogger.Instance));

            Assert.Equal($"LISTEN_FDS: descriptor {fd} ('Web') is a socket that is not listening.", e.Message);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    [LinuxFact]
    public void Acquire_RequestNamedAfterASocket_MatchedByNameWhateverItsAddress()
    {
        var (unnamed, _) = Passed(null);
        var (_, webFd) = Passed("Web");
        var table = Table();

        // The name wins over the unnamed socket of the very address asked for; names match in any case.
        int fd = table.Acquire(1, new SocketRequest($"127.0.0.1:{Port(unnamed)}", "web", "Kestrel:Endpoints:web:Url = 'x'"), out var reply);

        Assert.True(reply.Granted, reply.Error);
        Assert.Equal(webFd, fd);
    }

    [LinuxFact]
    public void Acquire_ListenHandleOfAPassedDescriptor_MatchedByDescriptor()
    {
        Passed(null);
        var (_, secondFd) = Passed(null);
        var table = Table();

        int fd = table.Acquire(1, new SocketRequest($"fd:{secondFd}", null, "an endpoint set in code"), out var reply);
        int none = table.Acquire(1, new SocketRequest("fd:1000000", null, "an endpoint set in code"), out var refused);

        Assert.Equal(secondFd, fd);
        Assert.Equal(-1, none);
        Assert.Equal(SocketRefusal.Other, refused.Refusal);
    }

    [LinuxFact]
    public void Acquire_SameAddress_MatchedByAddress()
    {
        Passed(null);
        var (socket, fd) = Passed(null);
        var table = Table();

        Assert.Equal(fd, Granted(table, 1, $"127.0.0.1:{Port(socket)}"));
    }

    [LinuxFact]
    public void Acquire_IPv4RequestForAnIPv4MappedSocket_Matched()
    {
        var mapped = Own(new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true });
        mapped.Bind(new IPEndPoint(IPAddress.Loopback.MapToIPv6(), 0));
        mapped.Listen();
        int fd = Duplicate(mapped);
        _activated.Add(new ActivatedSocket(fd, null));
        var table = Table();

        Assert.Equal(fd, Granted(table, 1, $"127.0.0.1:{Port(mapped)}"));
    }

    [LinuxFact]
    public void Acquire_OtherPortOrOtherAddress_NotMatched()
    {
        var (socket, _) = Passed(null);
        var table = Table();

        Assert.Equal(-1, table.Acquire(1, new SocketRequest($"127.0.0.1:{Port(socket) ^ 1}", null, "s"), out _));
        Assert.Equal(-1, table.Acquire(1, new SocketRequest($"[::1]:{Port(socket)}", null, "s"), out _));
        Assert.Equal(-1, table.Acquire(1, new SocketRequest("127.0.0.1:0", null, "s"), out _));
    }

    [LinuxFact]
    public void Acquire_NamedAndUnnamedSocketOnOneAddress_UnnamedForTheAddressNamedLeftForItsEndpoint()
    {
        var (named, namedFd) = Passed("Admin", reusePort: true);
        var (_, unnamedFd) = Passed(null, reusePort: true, port: Port(named));
        var table = Table();
        string endpoint = $"127.0.0.1:{Port(named)}";

        int byAddress = table.Acquire(1, new SocketRequest(endpoint, null, "urls = 'x'"), out _);
        int byName = table.Acquire(1, new SocketRequest(endpoint, "Admin", "Kestrel:Endpoints:Admin:Url = 'x'"), out _);

        Assert.Equal(unnamedFd, byAddress);
        Assert.Equal(namedFd, byName);
    }

    [LinuxFact]
    public void Acquire_OnlyANamedSocketHasTheAddress_MatchedByAddressAll()
    {
        var (socket, fd) = Passed("Metrics");
        var table = Table();

        Assert.Equal(fd, Granted(table, 1, $"127.0.0.1:{Port(socket)}"));
    }

    [LinuxFact]
    public void Acquire_SocketAlreadyGivenToThisGeneration_NotGivenTwiceButToTheNextGeneration()
    {
        var (socket, fd) = Passed(null);
        var table = Table();
        string endpoint = $"127.0.0.1:{Port(socket)}";
        Assert.Equal(fd, Granted(table, 1, endpoint));

        int again = table.Acquire(1, new SocketRequest(endpoint, null, "s"), out var reply);

        Assert.Equal(-1, again);
        Assert.False(reply.Granted);
        Assert.Equal(fd, Granted(table, 2, endpoint));
    }

    [LinuxFact]
    public void Acquire_NoSocketFits_RefusedSayingSystemdPassedNoneAndWhatItPassed()
    {
        var (web, _) = Passed("Web");
        var (other, _) = Passed(null);
        var table = Table();

        int fd = table.Acquire(1, new SocketRequest("127.0.0.1:1", null, "urls = 'http://127.0.0.1:1'"), out var reply);

        Assert.Equal(-1, fd);
        Assert.Equal(SocketRefusal.Other, reply.Refusal);
        Assert.StartsWith(
            $"Kestrel asked for 127.0.0.1:1 (urls = 'http://127.0.0.1:1'), but systemd passed no socket for it (it passed 127.0.0.1:{Port(web)} named Web, 127.0.0.1:{Port(other)}). ",
            reply.Error, StringComparison.Ordinal);
        Assert.Contains("FileDescriptorName=", reply.Error, StringComparison.Ordinal);
        Assert.Equal(2, table.Count);
    }

    [LinuxFact]
    public async Task Release_EveryGenerationExits_NothingClosed()
    {
        var (used, usedFd) = Passed(null);
        var (_, unusedFd) = Passed("Unused");
        var table = Table();
        Granted(table, 1, $"127.0.0.1:{Port(used)}");
        table.Serving(1, []);
        Granted(table, 2, $"127.0.0.1:{Port(used)}");
        table.Serving(2, []);

        table.Release(1);
        table.Release(2);
        int closed = table.CloseBound();

        Assert.Equal(0, closed);
        Assert.Equal(2, table.Count);
        Assert.True(IsListening(usedFd));
        Assert.True(IsListening(unusedFd));
        await AssertAcceptsAsync(used, used.LocalEndPoint!);
    }

    [LinuxFact]
    public void Acquire_UnderActivation_BindsNothing()
    {
        Passed(null);
        var table = Table();

        int fd = table.Acquire(1, new SocketRequest("127.0.0.1:0", null, "s"), out var reply);

        Assert.Equal(-1, fd);
        Assert.Contains("systemd passed no socket for it", reply.Error, StringComparison.Ordinal);
        Assert.Equal(1, table.Count);
    }

    /// <summary>A listening socket, and the duplicate of its descriptor that "systemd" passes (the table then owns that).</summary>
    private (Socket Socket, int Fd) Passed(string? name, bool reusePort = false, int port = 0)
    {
        var socket = Own(ListeningTcp(reusePort, port));
        int fd = Duplicate(socket);
        _activated.Add(new ActivatedSocket(fd, name));
        return (socket, fd);
    }

    private SocketTable Table() => Own(SocketTable.ForActivation(new SocketActivation([.. _activated]), NullLogger.Instance));

    private static int Granted(SocketTable table, int holder, string endpoint)
    {
        int fd = table.Acquire(holder, new SocketRequest(endpoint, null, "s"), out var reply);
        Assert.True(reply.Granted, reply.Error);
        return fd;
    }

    private T Own<T>(T item)
        where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }
}

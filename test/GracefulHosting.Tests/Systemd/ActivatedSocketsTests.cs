using System.Net;
using System.Net.Sockets;
using GracefulHosting.Endpoints;
using GracefulHosting.Systemd;
using GracefulHosting.Tests.Endpoints;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Tests.Systemd;

public sealed class ActivatedSocketsTests : IDisposable
{
    private readonly List<Socket> _sockets = [];

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
    }

    [Fact]
    public void Match_SocketNamedAfterEndpoint_MatchedByNameEvenWithOtherAddress()
    {
        var named = Passed(3, "Web", new IPEndPoint(IPAddress.Loopback, 9001));
        var settings = Settings(("Endpoints:Web:Url", "http://127.0.0.1:1"));

        var match = ActivatedSockets.Match(new IPEndPoint(IPAddress.Loopback, 1), "127.0.0.1:1", [named], settings);

        Assert.Same(named, match?.Socket);
        Assert.Equal("name (Kestrel:Endpoints:Web)", match?.MatchedBy);
        Assert.Equal("127.0.0.1:1", match?.Endpoint);
    }

    [Fact]
    public void Match_SameAddress_MatchedByAddress()
    {
        var socket = Passed(3, null, new IPEndPoint(IPAddress.Loopback, 9002));

        var match = ActivatedSockets.Match(new IPEndPoint(IPAddress.Loopback, 9002), "127.0.0.1:9002", [socket], Settings());

        Assert.Equal("address", match?.MatchedBy);
    }

    [Theory]
    [InlineData("0.0.0.0", "::")]
    [InlineData("::", "0.0.0.0")]
    [InlineData("::", "::")]
    public void Match_AnyAddressForAnyAddressOfSamePort_Matched(string requested, string passed)
    {
        var socket = Passed(3, null, new IPEndPoint(IPAddress.Parse(passed), 9003));

        Assert.NotNull(ActivatedSockets.Match(new IPEndPoint(IPAddress.Parse(requested), 9003), "x", [socket], Settings()));
    }

    [Fact]
    public void Match_OtherPortOrPortZeroOrOtherAddress_NoMatch()
    {
        var socket = Passed(3, null, new IPEndPoint(IPAddress.Loopback, 9004));

        Assert.Null(ActivatedSockets.Match(new IPEndPoint(IPAddress.Loopback, 9005), "x", [socket], Settings()));
        Assert.Null(ActivatedSockets.Match(new IPEndPoint(IPAddress.Loopback, 0), "x", [socket], Settings()));
        Assert.Null(ActivatedSockets.Match(new IPEndPoint(IPAddress.IPv6Loopback, 9004), "x", [socket], Settings()));
    }

    [Fact]
    public void Match_UnixPath_MatchedBySamePathOnly()
    {
        var socket = Passed(3, null, new UnixDomainSocketEndPoint("/run/app.sock"));

        Assert.NotNull(ActivatedSockets.Match(new UnixDomainSocketEndPoint("/run/app.sock"), "unix:/run/app.sock", [socket], Settings()));
        Assert.Null(ActivatedSockets.Match(new UnixDomainSocketEndPoint("/run/other.sock"), "unix:/run/other.sock", [socket], Settings()));
    }

    [Fact]
    public void Match_ListenHandleOfPassedDescriptor_MatchedByDescriptor()
    {
        var socket = Passed(4, null, new IPEndPoint(IPAddress.Loopback, 9006));

        Assert.Equal("descriptor", ActivatedSockets.Match(new FileHandleEndPoint(4, FileHandleType.Auto), "fd:4", [socket], Settings())?.MatchedBy);
        Assert.Null(ActivatedSockets.Match(new FileHandleEndPoint(5, FileHandleType.Auto), "fd:5", [socket], Settings()));
    }

    [Fact]
    public void Match_TwoSocketsSameAddress_UnnamedOneLeftForAddressNamedOneForItsEndpoint()
    {
        var named = Passed(3, "Web", new IPEndPoint(IPAddress.Loopback, 9007));
        var unnamed = Passed(4, null, new IPEndPoint(IPAddress.Loopback, 9007));
        var settings = Settings(("Endpoints:Web:Url", "http://127.0.0.1:9007"));

        var byAddress = ActivatedSockets.Match(new IPEndPoint(IPAddress.Loopback, 9007), "127.0.0.1:9007", [unnamed], settings);
        var first = ActivatedSockets.Match(new IPEndPoint(IPAddress.Loopback, 9007), "127.0.0.1:9007", [named, unnamed], settings);

        Assert.Same(unnamed, byAddress?.Socket);
        Assert.Same(named, first?.Socket);
    }

    [Fact]
    public void Match_NameOfNoEndpoint_FallsBackToAddress()
    {
        var socket = Passed(3, "Metrics", new IPEndPoint(IPAddress.Loopback, 9008));

        Assert.Equal("address", ActivatedSockets.Match(new IPEndPoint(IPAddress.Loopback, 9008), "127.0.0.1:9008", [socket], Settings())?.MatchedBy);
    }

    private OpenedSocket Passed(int fd, string? name, EndPoint local)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _sockets.Add(socket);
        return new OpenedSocket(new ActivatedSocket(fd, name), socket, local);
    }

    private static EndpointSettings Settings(params (string Key, string Value)[] values) =>
        EndpointSettings.From(TestSettings.Kestrel(values), TestSettings.Hosting());
}

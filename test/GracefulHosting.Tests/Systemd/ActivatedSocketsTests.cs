using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GracefulHosting.Interop;
using GracefulHosting.Systemd;
using static GracefulHosting.Tests.TestSockets;

namespace GracefulHosting.Tests.Systemd;

public sealed class ActivatedSocketsTests
{
    [Theory]
    [InlineData("0.0.0.0", "::")]
    [InlineData("::", "0.0.0.0")]
    [InlineData("::", "::")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("127.0.0.1", "::ffff:127.0.0.1")]
    public void SameAddress_SamePortAndAddress_True(string requested, string bound)
    {
        Assert.True(ActivatedSockets.SameAddress(new IPEndPoint(IPAddress.Parse(requested), 9003), new IPEndPoint(IPAddress.Parse(bound), 9003)));
    }

    [Theory]
    [InlineData("127.0.0.1", 9004, "127.0.0.1", 9005)]
    [InlineData("127.0.0.1", 0, "127.0.0.1", 9004)]
    [InlineData("::1", 9004, "127.0.0.1", 9004)]
    [InlineData("127.0.0.1", 9004, "0.0.0.0", 9004)]
    [InlineData("0.0.0.0", 9004, "127.0.0.1", 9004)]
    [InlineData("::ffff:127.0.0.1", 9004, "127.0.0.1", 9004)]
    public void SameAddress_OtherPortOrPortZeroOrOtherAddress_False(string requested, int requestedPort, string bound, int boundPort)
    {
        Assert.False(ActivatedSockets.SameAddress(new IPEndPoint(IPAddress.Parse(requested), requestedPort), new IPEndPoint(IPAddress.Parse(bound), boundPort)));
    }

    [Fact]
    public void SameAddress_UnixPath_SamePathOnly()
    {
        var local = new UnixDomainSocketEndPoint("/run/app.sock");

        Assert.True(ActivatedSockets.SameAddress(new UnixDomainSocketEndPoint("/run/app.sock"), local));
        Assert.False(ActivatedSockets.SameAddress(new UnixDomainSocketEndPoint("/run/other.sock"), local));
        Assert.False(ActivatedSockets.SameAddress(new IPEndPoint(IPAddress.Loopback, 80), local));
        Assert.False(ActivatedSockets.SameAddress(local, new IPEndPoint(IPAddress.Loopback, 80)));
    }

    [LinuxFact]
    [SupportedOSPlatform("linux")]
    public void Open_ListeningSocket_CloseOnExecViewOfItsAddress()
    {
        using var listener = ListeningTcp();
        int fd = Duplicate(listener);
        Assert.Equal(0, Libc.SetCloseOnExec(fd, closeOnExec: false));

        var opened = ActivatedSockets.Open(new ActivatedSocket(fd, "Web"));
        try
        {
            Assert.Equal(listener.LocalEndPoint, opened.Local);
            Assert.Equal($"127.0.0.1:{Port(listener)}", opened.Address);
            Assert.True(IsCloseOnExec(fd));
        }
        finally
        {
            opened.Release();
        }

        Assert.True(IsListening(Fd(listener)), "releasing systemd's copy leaves the other copies listening");
    }

    [LinuxFact]
    [SupportedOSPlatform("linux")]
    public void Open_BoundButNotListening_ThrowsNamingTheDescriptorAndName()
    {
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int fd = Fd(bound);

        var e = Assert.Throws<InvalidOperationException>(() => ActivatedSockets.Open(new ActivatedSocket(fd, "Web")));

        Assert.Equal($"LISTEN_FDS: descriptor {fd} ('Web') is a socket that is not listening.", e.Message);
    }
}

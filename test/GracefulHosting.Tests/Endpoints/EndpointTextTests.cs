using System.Net;
using System.Net.Sockets;
using GracefulHosting.Endpoints;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Tests.Endpoints;

public class EndpointTextTests
{
    [Fact]
    public void Format_EachKind_DocumentedText()
    {
        Assert.Equal("127.0.0.1:8080", EndpointText.Format(new IPEndPoint(IPAddress.Loopback, 8080)));
        Assert.Equal("[::]:443", EndpointText.Format(new IPEndPoint(IPAddress.IPv6Any, 443)));
        Assert.Equal("unix:/run/app.sock", EndpointText.Format(new UnixDomainSocketEndPoint("/run/app.sock")));
        Assert.Equal("fd:3", EndpointText.Format(new FileHandleEndPoint(3, FileHandleType.Auto)));
        Assert.Null(EndpointText.Format(new NamedPipeEndPoint("pipe")));
    }

    [Theory]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("[::1]:0", true)]
    [InlineData("unix:/run/app.sock", true)]
    [InlineData("fd:12", true)]
    [InlineData("unix:", false)]
    [InlineData("fd:", false)]
    [InlineData("fd:-1", false)]
    [InlineData("localhost:80", false)]
    [InlineData("", false)]
    public void IsValid_Text_TrueOnlyForFormattedShapes(string text, bool expected)
    {
        Assert.Equal(expected, EndpointText.IsValid(text));
    }

    [Fact]
    public void FindUrl_ReportedUrls_TheOneServedBySocket()
    {
        string[] urls = ["https://127.0.0.1:8443", "http://localhost:5000", "http://unix:/run/app.sock", "http://[::]:80"];

        Assert.Equal("https://127.0.0.1:8443", EndpointText.FindUrl(urls, new IPEndPoint(IPAddress.Loopback, 8443)));
        Assert.Equal("http://localhost:5000", EndpointText.FindUrl(urls, new IPEndPoint(IPAddress.IPv6Loopback, 5000)));
        Assert.Equal("http://unix:/run/app.sock", EndpointText.FindUrl(urls, new UnixDomainSocketEndPoint("/run/app.sock")));
        Assert.Equal("http://[::]:80", EndpointText.FindUrl(urls, new IPEndPoint(IPAddress.IPv6Any, 80)));
        Assert.Equal("http://127.0.0.1:9", EndpointText.FindUrl(urls, new IPEndPoint(IPAddress.Loopback, 9)));
    }

    [Theory]
    [InlineData("127.0.0.1", 5000, "http://127.0.0.1:5000", "http")]
    [InlineData("127.0.0.1", 5001, "http://127.0.0.1:5000;https://127.0.0.1:5001", "https")]
    [InlineData("::1", 5001, "https://[::1]:5001", "https")]
    [InlineData("::1", 5000, "http://localhost:5000", "http")]
    [InlineData("::", 80, "http://[::]:80", "http")]
    [InlineData("::ffff:127.0.0.1", 5000, "http://127.0.0.1:5000", "http")]
    [InlineData("127.0.0.1", 5000, "http://127.0.0.2:5000", null)]
    [InlineData("127.0.0.1", 5000, "http://127.0.0.1:5001", null)]
    [InlineData("127.0.0.1", 5000, "not an address", null)]
    public void Match_ServerAddresses_MatchesAddressAndPort(string ip, int port, string addresses, string? expected)
    {
        var scheme = EndpointText.Match(addresses.Split(';'), new IPEndPoint(IPAddress.Parse(ip), port))?.Address.Scheme;

        Assert.Equal(expected, scheme);
    }

    [Fact]
    public void Match_FileHandleEndPoint_Null()
    {
        Assert.Null(EndpointText.Match(["http://127.0.0.1:80"], new FileHandleEndPoint(3, FileHandleType.Tcp)));
    }
}

using System.Net;
using GracefulHosting.Endpoints;
using Microsoft.Extensions.Configuration;

namespace GracefulHosting.Tests.Endpoints;

public class EndpointResolverTests
{
    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();

    private static IPEndPoint Single(ListenEndpoint endpoint)
    {
        var target = Assert.Single(endpoint.Targets);
        Assert.True(target.Required);
        return target.EndPoint;
    }

    // Precedence

    [Fact]
    public void Resolve_NullConfiguration_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => EndpointResolver.Resolve(null!));
    }

    [Fact]
    public void Resolve_NothingConfigured_DefaultLocalhost5000()
    {
        var endpoint = Assert.Single(EndpointResolver.Resolve(Config()));

        Assert.Equal("http://localhost:5000", endpoint.Url);
        Assert.Equal("default", endpoint.Source);
        Assert.Equal(
            [new BindTarget(new IPEndPoint(IPAddress.Loopback, 5000), true), new BindTarget(new IPEndPoint(IPAddress.IPv6Loopback, 5000), false)],
            endpoint.Targets);
    }

    [Fact]
    public void Resolve_KestrelEndpointsAndUrlsAndPorts_KestrelEndpointsWin()
    {
        var configuration = Config(
            ("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:7000"),
            ("urls", "http://127.0.0.1:7001"),
            ("http_ports", "7002"),
            ("https_ports", "7003"));

        var endpoint = Assert.Single(EndpointResolver.Resolve(configuration));

        Assert.Equal("Http", endpoint.Name);
        Assert.Equal("Kestrel:Endpoints:Http:Url", endpoint.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 7000), Single(endpoint));
    }

    [Fact]
    public void Resolve_UrlsAndPorts_UrlsWin()
    {
        var configuration = Config(
            ("urls", "http://127.0.0.1:7001"),
            ("http_ports", "7002"),
            ("https_ports", "7003"));

        var endpoint = Assert.Single(EndpointResolver.Resolve(configuration));

        Assert.Equal("urls", endpoint.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 7001), Single(endpoint));
    }

    [Fact]
    public void Resolve_HttpAndHttpsPorts_BothOnAnyAddress()
    {
        var configuration = Config(("http_ports", "8080;8081"), ("https_ports", "8443"));

        var endpoints = EndpointResolver.Resolve(configuration);

        Assert.Equal(["http://*:8080", "http://*:8081", "https://*:8443"], endpoints.Select(e => e.Url));
        Assert.Equal(["http_ports", "http_ports", "https_ports"], endpoints.Select(e => e.Source));
        Assert.Equal(
            [new IPEndPoint(IPAddress.IPv6Any, 8080), new IPEndPoint(IPAddress.IPv6Any, 8081), new IPEndPoint(IPAddress.IPv6Any, 8443)],
            endpoints.Select(Single));
        Assert.Equal(3, endpoints.Select(e => e.Name).Distinct().Count());
    }

    [Fact]
    public void Resolve_OnlyHttpsPorts_UsesThem()
    {
        var endpoint = Assert.Single(EndpointResolver.Resolve(Config(("https_ports", "443"))));

        Assert.Equal("https_ports", endpoint.Source);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Any, 443), Single(endpoint));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Resolve_BlankUrlsAndPorts_FallBackToDefault(string blank)
    {
        var endpoint = Assert.Single(EndpointResolver.Resolve(Config(("urls", blank), ("http_ports", blank), ("https_ports", blank))));

        Assert.Equal("default", endpoint.Source);
    }

    [Fact]
    public void Resolve_SeveralKestrelEndpoints_OneEachWithItsName()
    {
        var configuration = Config(
            ("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:7000"),
            ("Kestrel:Endpoints:Https:Url", "https://[::1]:7443"),
            ("Kestrel:Endpoints:Https:Protocols", "Http1AndHttp2"));

        var endpoints = EndpointResolver.Resolve(configuration).OrderBy(e => e.Name, StringComparer.Ordinal).ToList();

        Assert.Equal(["Http", "Https"], endpoints.Select(e => e.Name));
        Assert.Equal(["Kestrel:Endpoints:Http:Url", "Kestrel:Endpoints:Https:Url"], endpoints.Select(e => e.Source));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 7000), Single(endpoints[0]));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 7443), Single(endpoints[1]));
    }

    [Fact]
    public void Resolve_KestrelEndpointUrlWithSpaces_Trimmed()
    {
        var endpoint = Assert.Single(EndpointResolver.Resolve(Config(("Kestrel:Endpoints:Web:Url", "  http://127.0.0.1:7000  "))));

        Assert.Equal("http://127.0.0.1:7000", endpoint.Url);
    }

    [Fact]
    public void Resolve_KestrelEndpointWithoutUrl_ThrowsNamingKey()
    {
        var configuration = Config(("Kestrel:Endpoints:Web:Protocols", "Http2"), ("urls", "http://127.0.0.1:7001"));

        var e = Assert.Throws<InvalidOperationException>(() => EndpointResolver.Resolve(configuration));

        Assert.Contains("Kestrel:Endpoints:Web:Url", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_KestrelEndpointWithBlankUrl_ThrowsNamingKey()
    {
        var e = Assert.Throws<InvalidOperationException>(() => EndpointResolver.Resolve(Config(("Kestrel:Endpoints:Web:Url", " "))));

        Assert.Contains("Kestrel:Endpoints:Web:Url", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_SeveralUrls_SplitOnSemicolon()
    {
        var configuration = Config(("urls", " http://127.0.0.1:7001 ;;https://[::1]:7002; http://*:7003"));

        var endpoints = EndpointResolver.Resolve(configuration);

        Assert.Equal(["http://127.0.0.1:7001", "https://[::1]:7002", "http://*:7003"], endpoints.Select(e => e.Url));
        Assert.All(endpoints, e => Assert.Equal("urls", e.Source));
        Assert.Equal(
            [new IPEndPoint(IPAddress.Loopback, 7001), new IPEndPoint(IPAddress.IPv6Loopback, 7002), new IPEndPoint(IPAddress.IPv6Any, 7003)],
            endpoints.Select(Single));
        Assert.Equal(3, endpoints.Select(e => e.Name).Distinct().Count());
    }

    [Fact]
    public void Resolve_BadUrlInUrls_ThrowsNamingKey()
    {
        var e = Assert.Throws<InvalidOperationException>(() => EndpointResolver.Resolve(Config(("urls", "http://127.0.0.1:7001;ftp://127.0.0.1:21"))));

        Assert.StartsWith("urls ", e.Message, StringComparison.Ordinal);
        Assert.Contains("ftp://127.0.0.1:21", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_BadHttpPort_ThrowsNamingKey()
    {
        var e = Assert.Throws<InvalidOperationException>(() => EndpointResolver.Resolve(Config(("http_ports", "80;eighty"))));

        Assert.StartsWith("http_ports ", e.Message, StringComparison.Ordinal);
        Assert.Contains("eighty", e.Message, StringComparison.Ordinal);
    }

    // Parsing one URL

    [Theory]
    [InlineData("http://localhost:5000", 5000)]
    [InlineData("https://LOCALHOST:5001", 5001)]
    [InlineData("http://localhost", 80)]
    [InlineData("https://localhost", 443)]
    public void Parse_Localhost_RequiredIPv4AndOptionalIPv6Loopback(string url, int port)
    {
        var endpoint = EndpointResolver.Parse("Web", url, "urls");

        Assert.Equal(
            [new BindTarget(new IPEndPoint(IPAddress.Loopback, port), true), new BindTarget(new IPEndPoint(IPAddress.IPv6Loopback, port), false)],
            endpoint.Targets);
    }

    [Theory]
    [InlineData("http://*:8080")]
    [InlineData("http://+:8080")]
    [InlineData("http://example.com:8080")]
    [InlineData("http://my-host:8080/")]
    [InlineData("http://[::]:8080")]
    public void Parse_WildcardOrHostName_IPv6Any(string url)
    {
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Any, 8080), Single(EndpointResolver.Parse("Web", url, "urls")));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "127.0.0.1", 8080)]
    [InlineData("http://0.0.0.0:8080", "0.0.0.0", 8080)]
    [InlineData("https://10.1.2.3", "10.1.2.3", 443)]
    [InlineData("http://10.1.2.3", "10.1.2.3", 80)]
    [InlineData("http://[::1]:8080", "::1", 8080)]
    [InlineData("http://[fe80::1]", "fe80::1", 80)]
    [InlineData("https://[2001:db8::5]:9443", "2001:db8::5", 9443)]
    [InlineData("http://127.0.0.1:0", "127.0.0.1", 0)]
    [InlineData("http://127.0.0.1:65535", "127.0.0.1", 65535)]
    public void Parse_IPLiteral_ThatAddressOnly(string url, string address, int port)
    {
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), Single(EndpointResolver.Parse("Web", url, "urls")));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/app")]
    [InlineData("http://127.0.0.1:8080/app/sub?x=1")]
    [InlineData("HTTP://127.0.0.1:8080/")]
    public void Parse_PathBaseOrUpperCaseScheme_Ignored(string url)
    {
        var endpoint = EndpointResolver.Parse("Web", url, "urls");

        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), Single(endpoint));
        Assert.Equal(url, endpoint.Url);
    }

    [Fact]
    public void Parse_Any_KeepsNameUrlAndSource()
    {
        var endpoint = EndpointResolver.Parse("Web", "http://127.0.0.1:1", "Kestrel:Endpoints:Web:Url");

        Assert.Equal("Web", endpoint.Name);
        Assert.Equal("http://127.0.0.1:1", endpoint.Url);
        Assert.Equal("Kestrel:Endpoints:Web:Url", endpoint.Source);
    }

    [Theory]
    [InlineData("127.0.0.1:8080", "no scheme")]
    [InlineData("://127.0.0.1:8080", "no scheme")]
    [InlineData("ftp://127.0.0.1:21", "'ftp'")]
    [InlineData("ws://127.0.0.1:80", "'ws'")]
    [InlineData("http://unix:/run/app.sock", "Unix domain sockets")]
    [InlineData("http://pipe:/app", "named pipes")]
    [InlineData("http://127.0.0.1:port", "'port'")]
    [InlineData("http://127.0.0.1:65536", "'65536'")]
    [InlineData("http://127.0.0.1:-1", "'-1'")]
    [InlineData("http://127.0.0.1:", "''")]
    [InlineData("http://localhost:0", "port 0")]
    [InlineData("http://[::1:8080", "closing ']'")]
    [InlineData("http://[::1]8080", "after the IPv6 address")]
    [InlineData("http://:8080", "no host")]
    [InlineData("http://", "no host")]
    public void Parse_InvalidUrl_ThrowsNamingKeyUrlAndReason(string url, string reason)
    {
        var e = Assert.Throws<InvalidOperationException>(() => EndpointResolver.Parse("Web", url, "Kestrel:Endpoints:Web:Url"));

        Assert.StartsWith("Kestrel:Endpoints:Web:Url ", e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{url}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_InvalidKestrelEndpointUrl_ThrowsNamingKey()
    {
        var e = Assert.Throws<InvalidOperationException>(() => EndpointResolver.Resolve(Config(("Kestrel:Endpoints:Api:Url", "http://unix:/tmp/x.sock"))));

        Assert.StartsWith("Kestrel:Endpoints:Api:Url ", e.Message, StringComparison.Ordinal);
    }
}

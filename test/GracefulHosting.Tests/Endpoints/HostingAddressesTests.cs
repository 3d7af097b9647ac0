using GracefulHosting.Endpoints;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;

namespace GracefulHosting.Tests.Endpoints;

public class HostingAddressesTests
{
    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();

    [Fact]
    public void Resolve_AppSetUrlsOnServer_TheyWinOverConfiguration()
    {
        var server = new Feature("http://127.0.0.1:8080") { PreferHostingUrls = true };

        var addresses = HostingAddresses.Resolve(server, Config(("urls", "http://127.0.0.1:9090"), ("preferHostingUrls", "false")));

        Assert.Equal(["http://127.0.0.1:8080"], addresses.Urls);
        Assert.True(addresses.PreferHostingUrls);
        Assert.Equal("app.Urls", addresses.Source);
    }

    [Fact]
    public void Resolve_UrlsInConfiguration_SplitOnSemicolons()
    {
        var addresses = HostingAddresses.Resolve(new Feature(), Config(("urls", "http://127.0.0.1:1;;https://[::1]:2"), ("http_ports", "3")));

        Assert.Equal(["http://127.0.0.1:1", "https://[::1]:2"], addresses.Urls);
        Assert.False(addresses.PreferHostingUrls);
        Assert.Equal("urls", addresses.Source);
    }

    [Fact]
    public void Resolve_PortsOnly_AnyAddressUrlsHttpThenHttps()
    {
        var addresses = HostingAddresses.Resolve(null, Config(("https_ports", "8443"), ("http_ports", " 8080 ; 8081 ")));

        Assert.Equal(["http://*:8080", "http://*:8081", "https://*:8443"], addresses.Urls);
        Assert.Equal("http_ports/https_ports", addresses.Source);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("yes", false)]
    [InlineData(null, false)]
    public void Resolve_PreferHostingUrlsInConfiguration_ParsedAsTheWebHostDoes(string? value, bool expected)
    {
        var addresses = HostingAddresses.Resolve(new Feature(), Config(("urls", "http://127.0.0.1:1"), ("preferHostingUrls", value)));

        Assert.Equal(expected, addresses.PreferHostingUrls);
    }

    [Fact]
    public void Resolve_NothingNamed_Empty()
    {
        var addresses = HostingAddresses.Resolve(new Feature(), Config(("urls", ""), ("http_ports", " ; ")));

        Assert.Empty(addresses.Urls);
    }

    [Fact]
    public void Resolve_NullConfiguration_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => HostingAddresses.Resolve(null, null!));
    }

    private sealed class Feature(params string[] urls) : IServerAddressesFeature
    {
        public ICollection<string> Addresses { get; } = [.. urls];

        public bool PreferHostingUrls { get; set; }
    }
}

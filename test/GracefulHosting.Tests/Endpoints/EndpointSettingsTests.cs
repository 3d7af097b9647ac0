using GracefulHosting.Endpoints;

namespace GracefulHosting.Tests.Endpoints;

public class EndpointSettingsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080", new[] { "127.0.0.1:8080" })]
    [InlineData("https://[::1]:443", new[] { "[::1]:443" })]
    [InlineData("http://localhost:5000", new[] { "127.0.0.1:5000", "[::1]:5000" })]
    [InlineData("http://app.localhost:5000", new[] { "127.0.0.1:5000", "[::1]:5000" })]
    [InlineData("http://*:80", new[] { "[::]:80", "0.0.0.0:80" })]
    [InlineData("http://+:80", new[] { "[::]:80", "0.0.0.0:80" })]
    [InlineData("http://example.com:80", new[] { "[::]:80", "0.0.0.0:80" })]
    [InlineData("http://unix:/run/app.sock", new[] { "unix:/run/app.sock" })]
    [InlineData("127.0.0.1:8080", new string[0])]
    [InlineData("http://127.0.0.1:99999", new string[0])]
    public void RequestsOf_Url_WhatKestrelAsksItsTransportFor(string url, string[] expected)
    {
        Assert.Equal(expected, EndpointSettings.RequestsOf(url));
    }

    [Fact]
    public void Describe_EndpointOfConfiguredEntry_NamesTheKeyAndUrl()
    {
        var settings = EndpointSettings.From(TestSettings.Kestrel(("Endpoints:Web:Url", "http://localhost:7000")), TestSettings.Hosting("http://127.0.0.1:9000"));

        Assert.Equal("Kestrel:Endpoints:Web:Url = 'http://localhost:7000'", settings.Describe("[::1]:7000"));
        Assert.Equal("urls = 'http://127.0.0.1:9000'", settings.Describe("127.0.0.1:9000"));
    }

    [Fact]
    public void Describe_EndpointNoSettingNames_SetInCode()
    {
        var settings = EndpointSettings.From(TestSettings.Kestrel(("Endpoints:Web:Url", "http://127.0.0.1:7000")), TestSettings.Hosting());

        Assert.Equal("an endpoint set in code", settings.Describe("127.0.0.1:5000"));
    }

    [Fact]
    public void Describe_NothingConfigured_DefaultAddressNamedAsKestrelsDefault()
    {
        var settings = EndpointSettings.From(null, TestSettings.Hosting());

        Assert.Equal("Kestrel's default http://localhost:5000", settings.Describe("127.0.0.1:5000"));
        Assert.Equal("an endpoint set in code", settings.Describe("127.0.0.1:5001"));
    }

    [Fact]
    public void DescribeAll_MessageQuotesOneUrl_OnlyThatSetting()
    {
        var settings = EndpointSettings.From(TestSettings.Kestrel(("Endpoints:A:Url", "bad-url"), ("Endpoints:B:Url", "http://127.0.0.1:1")), TestSettings.Hosting());

        Assert.Equal("Kestrel:Endpoints:A:Url = 'bad-url'", settings.DescribeAll("Invalid url: 'bad-url'"));
        Assert.Equal("Kestrel:Endpoints:A:Url = 'bad-url', Kestrel:Endpoints:B:Url = 'http://127.0.0.1:1'", settings.DescribeAll("out of range"));
        Assert.Equal("no endpoint is configured", EndpointSettings.From(null, TestSettings.Hosting()).DescribeAll("x"));
    }

    [Fact]
    public void RequestsOfEndpoint_NameInAnyCase_RequestsOfItsUrl()
    {
        var settings = EndpointSettings.From(TestSettings.Kestrel(("Endpoints:Https:Url", "https://localhost:8443")), TestSettings.Hosting());

        Assert.Equal(["127.0.0.1:8443", "[::1]:8443"], settings.RequestsOfEndpoint("https"));
        Assert.Empty(settings.RequestsOfEndpoint("Http"));
    }
}

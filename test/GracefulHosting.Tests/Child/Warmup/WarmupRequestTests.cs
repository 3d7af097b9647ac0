using GracefulHosting.Child.Warmup;
using GracefulHosting.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulHosting.Tests.Child.Warmup;

public class WarmupRequestTests
{
    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();

    private static readonly Func<string, string?> NoEnvironment = _ => null;

    /// <summary>The options as the app gets them: bound from configuration by the setup.</summary>
    private static GracefulRestartOptions Bind(IConfiguration configuration) => GracefulRestartSetup.BindOptions(new ServiceCollection(), configuration);

    [Fact]
    public void BindOptions_RequestList_BindsEveryField()
    {
        var options = Bind(Config(
            ("GracefulRestart:Warmup:Requests:0:Method", "post"),
            ("GracefulRestart:Warmup:Requests:0:Path", "/todos?page=1"),
            ("GracefulRestart:Warmup:Requests:0:Headers:Authorization", "Bearer ${env:TOKEN}"),
            ("GracefulRestart:Warmup:Requests:0:ExpectedStatus", "4xx"),
            ("GracefulRestart:Warmup:Requests:0:Repeat", "3"),
            ("GracefulRestart:Warmup:Requests:1:Path", "/healthz")));

        var first = options.Warmup.Requests[0];
        Assert.Equal(("post", "/todos?page=1", "4xx", 3), (first.Method, first.Path, first.ExpectedStatus, first.Repeat));
        Assert.Equal("Bearer ${env:TOKEN}", first.Headers["authorization"]);
        var second = options.Warmup.Requests[1];
        Assert.Equal(("GET", "/healthz", "2xx", 1), (second.Method, second.Path, second.ExpectedStatus, second.Repeat));
        Assert.Equal(2, options.Warmup.Requests.Count);
    }

    [Fact]
    public void FromOptions_NothingSet_TwoGetsOfTheReservedPathAcceptingAnyStatus()
    {
        var request = Assert.Single(WarmupRequest.FromOptions(new GracefulRestartOptions(), Config(), NoEnvironment));

        Assert.Equal(("GET", GracefulRestartOptions.DefaultWarmupPath, null, 2), (request.Method, request.Target, request.ExpectedClass, request.Repeat));
        Assert.Equal("GracefulRestart:WarmupPath", request.Key);
    }

    [Fact]
    public void FromOptions_WarmupPathEmpty_NoRequests()
    {
        Assert.Empty(WarmupRequest.FromOptions(new GracefulRestartOptions { WarmupPath = "" }, Config(), NoEnvironment));
    }

    [Fact]
    public void FromOptions_WarmupPathSet_TwoGetsOfThatPath()
    {
        var request = Assert.Single(WarmupRequest.FromOptions(new GracefulRestartOptions { WarmupPath = "/healthz" }, Config(), NoEnvironment));

        Assert.Equal(("/healthz", 2, null), (request.Target, request.Repeat, request.ExpectedClass));
    }

    [Fact]
    public void FromOptions_HeadersFromEnvironmentAndConfiguration_FilledIn()
    {
        var configuration = Config(
            ("GracefulRestart:Warmup:Requests:0:Path", "/todos"),
            ("GracefulRestart:Warmup:Requests:0:Headers:Authorization", "Bearer ${env:WARMUP_TOKEN}"),
            ("GracefulRestart:Warmup:Requests:0:Headers:X-Api-Key", "${config:Secrets:ApiKey}"),
            ("GracefulRestart:Warmup:Requests:0:Headers:X-Price", "$$5 and $5"),
            ("Secrets:ApiKey", "k-123"));

        var request = Assert.Single(WarmupRequest.FromOptions(Bind(configuration), configuration, name => name == "WARMUP_TOKEN" ? "t0ken" : null));

        Assert.Equal(
            [new("Authorization", "Bearer t0ken"), new("X-Api-Key", "k-123"), new("X-Price", "$5 and $5")],
            request.Headers.OrderBy(h => h.Key, StringComparer.Ordinal));
        Assert.Equal(("GET", 2), (request.Method, request.ExpectedClass));
    }

    [Theory]
    [InlineData("Bearer ${env:MISSING}", "GracefulRestart:Warmup:Requests:0:Headers:Authorization: '${env:MISSING}' names the environment variable MISSING, which is not set")]
    [InlineData("${config:Nowhere:Key}", "GracefulRestart:Warmup:Requests:0:Headers:Authorization: '${config:Nowhere:Key}' names the configuration key Nowhere:Key, which is not set")]
    [InlineData("${env:EMPTY}", "GracefulRestart:Warmup:Requests:0:Headers:Authorization: '${env:EMPTY}' names the environment variable EMPTY, which is not set")]
    public void FromOptions_HeaderPartNotSet_ThrowsNamingTheKeyAndThePart(string template, string message)
    {
        var configuration = Config(
            ("GracefulRestart:Warmup:Requests:0:Path", "/todos"),
            ("GracefulRestart:Warmup:Requests:0:Headers:Authorization", template));

        var e = Assert.Throws<WarmupFailedException>(() =>
            WarmupRequest.FromOptions(Bind(configuration), configuration, name => name == "EMPTY" ? "" : null));

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Check_EveryStatusInItsClass_Null()
    {
        var requests = WarmupRequest.Expand([new("k0", "GET", "/a", [], 2, 2), new("k1", "GET", "/b", [], 4, 1)]);

        Assert.Null(WarmupRequest.Check(requests, [200, 204, 401]));
    }

    [Fact]
    public void Check_StatusOutsideItsClass_NamesTheRequestAndTheStatus()
    {
        var requests = WarmupRequest.Expand([new("GracefulRestart:Warmup:Requests:0", "GET", "/a", [], 2, 1), new("GracefulRestart:Warmup:Requests:1", "GET", "/todos", [], 2, 1)]);

        Assert.Equal("GracefulRestart:Warmup:Requests:1 (GET /todos) answered 500; expected 2xx", WarmupRequest.Check(requests, [200, 500]));
    }

    [Fact]
    public void Check_ResponseMissing_NamesTheRequest()
    {
        var requests = WarmupRequest.Expand([new("k0", "GET", "/a", [], 2, 2)]);

        Assert.Equal("k0 (GET /a) got no response; expected 2xx", WarmupRequest.Check(requests, [200]));
    }

    [Fact]
    public void Check_AnyStatusAccepted_NullEvenWhenResponsesAreMissing()
    {
        var requests = WarmupRequest.Expand([new("k0", "GET", "/a", [], null, 2)]);

        Assert.Null(WarmupRequest.Check(requests, [400]));
    }

    [Theory]
    [InlineData("2xx", 2)]
    [InlineData("4XX", 4)]
    [InlineData("5xx", 5)]
    [InlineData("1xx", null)]
    [InlineData("200", null)]
    [InlineData("any", null)]
    [InlineData("", null)]
    public void StatusClass_Parse_OnlyTheFourClasses(string text, int? expected)
    {
        Assert.Equal(expected, StatusClass.Parse(text));
    }
}

using Microsoft.Extensions.Options;

namespace GracefulHosting.Tests.Child.Warmup;

public class WarmupOptionsCheckTests
{
    private static IReadOnlyList<string> Failures(GracefulRestartOptions options)
    {
        var result = new GracefulRestartOptionsValidator().Validate(Options.DefaultName, options);
        return result.Failures?.ToList() ?? [];
    }

    private static GracefulRestartOptions WithRequest(Action<GracefulRestartWarmupRequest> configure)
    {
        var options = new GracefulRestartOptions();
        var request = new GracefulRestartWarmupRequest { Path = "/todos" };
        configure(request);
        options.Warmup.Requests.Add(request);
        return options;
    }

    [Fact]
    public void Validate_GoodRequest_Succeeds()
    {
        var options = WithRequest(r =>
        {
            r.Method = "post";
            r.Headers["Authorization"] = "Bearer ${env:TOKEN}";
            r.ExpectedStatus = "4XX";
            r.Repeat = 100;
        });

        Assert.Empty(Failures(options));
    }

    [Theory]
    [InlineData("Method", "G E T", "GracefulRestart:Warmup:Requests:0:Method must be an HTTP method such as GET or POST (was 'G E T').")]
    [InlineData("Method", "", "GracefulRestart:Warmup:Requests:0:Method must be an HTTP method such as GET or POST (was '').")]
    [InlineData("Path", "todos", "GracefulRestart:Warmup:Requests:0:Path must be a path and query that starts with '/' and has no spaces (was 'todos').")]
    [InlineData("Path", "/a b", "GracefulRestart:Warmup:Requests:0:Path must be a path and query that starts with '/' and has no spaces (was '/a b').")]
    [InlineData("ExpectedStatus", "200", "GracefulRestart:Warmup:Requests:0:ExpectedStatus must be 2xx, 3xx, 4xx or 5xx (was '200').")]
    [InlineData("Repeat", "0", "GracefulRestart:Warmup:Requests:0:Repeat must be from 1 to 100 (was '0').")]
    [InlineData("Repeat", "101", "GracefulRestart:Warmup:Requests:0:Repeat must be from 1 to 100 (was '101').")]
    public void Validate_BadField_FailsNamingKeyAndValue(string field, string value, string failure)
    {
        var options = WithRequest(r =>
        {
            switch (field)
            {
                case "Method": r.Method = value; break;
                case "Path": r.Path = value; break;
                case "ExpectedStatus": r.ExpectedStatus = value; break;
                default: r.Repeat = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            }
        });

        Assert.Equal([failure], Failures(options));
    }

    [Theory]
    [InlineData("X Bad", "ok", "GracefulRestart:Warmup:Requests:0:Headers:X Bad is not a valid header name (was 'X Bad').")]
    [InlineData("Content-Length", "5", "GracefulRestart:Warmup:Requests:0:Headers:Content-Length cannot be set: the warm-up frames its own requests (was 'Content-Length').")]
    [InlineData("connection", "keep-alive", "GracefulRestart:Warmup:Requests:0:Headers:connection cannot be set: the warm-up frames its own requests (was 'connection').")]
    [InlineData("X-Key", "a\r\nb", "GracefulRestart:Warmup:Requests:0:Headers:X-Key must not hold line breaks or control characters (was a value of 4 characters).")]
    [InlineData("Authorization", "Bearer ${vault:x}", "GracefulRestart:Warmup:Requests:0:Headers:Authorization: '${vault:x}' must be ${env:NAME} or ${config:Section:Key}.")]
    public void Validate_BadHeader_FailsNamingKeyWithoutTheWholeValue(string name, string value, string failure)
    {
        Assert.Equal([failure], Failures(WithRequest(r => r.Headers[name] = value)));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("")]
    public void Validate_WarmupPathWithRequestList_FailsNamingBoth(string path)
    {
        var options = WithRequest(_ => { });
        options.WarmupPath = path;

        Assert.Equal([$"GracefulRestart:WarmupPath cannot be set together with GracefulRestart:Warmup:Requests (was '{path}'); list that path as one of the requests instead."],
            Failures(options));
    }
}

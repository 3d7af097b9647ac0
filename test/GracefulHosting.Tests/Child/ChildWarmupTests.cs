using System.Net;
using GracefulHosting.Child;

namespace GracefulHosting.Tests.Child;

public class ChildWarmupTests
{
    [Fact]
    public void ParseStatuses_TwoPipelinedResponses_ReturnsBothCodes()
    {
        const string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n";

        Assert.Equal([200, 404], ChildWarmup.ParseStatuses(response));
    }

    [Fact]
    public void ParseStatuses_TruncatedStatusLine_IgnoresIt()
    {
        Assert.Equal([503], ChildWarmup.ParseStatuses("HTTP/1.1 503 Service Unavailable\r\n\r\nHTTP/1.1 2"));
    }

    [Fact]
    public void Done_NothingToWarmUp_CompletedAtOnce()
    {
        Assert.True(new ChildWarmup(enabled: false).Done.IsCompleted);
    }

    [Fact]
    public void Done_Enabled_CompletesOnlyWhenFinished()
    {
        var warmup = new ChildWarmup(enabled: true);
        Assert.False(warmup.Done.IsCompleted);

        warmup.Finish();

        Assert.True(warmup.Done.IsCompleted);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("HTT", true)]
    [InlineData("HTTP/1.1 200 OK\r\n", true)]
    [InlineData("\0\0\u0008\u0007\0\0\0\0\0", false)]
    [InlineData("HTX", false)]
    public void LooksLikeHttp1_ResponseStart_TrueOnlyForHttpStatusLines(string response, bool expected)
    {
        Assert.Equal(expected, ChildWarmup.LooksLikeHttp1(response));
    }
}

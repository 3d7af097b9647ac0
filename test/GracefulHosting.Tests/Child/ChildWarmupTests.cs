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
    public void Path_NotSet_IsTheReservedPath()
    {
        var warmup = new ChildWarmup(null);

        Assert.Equal(GracefulRestartOptions.DefaultWarmupPath, warmup.Path);
        Assert.False(warmup.Done.IsCompleted);
    }

    [Fact]
    public void Path_Set_IsThatPath()
    {
        Assert.Equal("/healthz", new ChildWarmup("/healthz").Path);
    }

    [Fact]
    public void Done_EmptyPath_OffAndCompletedAtOnce()
    {
        var warmup = new ChildWarmup("");

        Assert.Null(warmup.Path);
        Assert.True(warmup.Done.IsCompleted);
    }

    [Fact]
    public void Done_WithPath_CompletesOnlyWhenFinished()
    {
        var warmup = new ChildWarmup("/");
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

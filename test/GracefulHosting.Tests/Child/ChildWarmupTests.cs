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
    public void Done_NoPath_CompletedAtOnce()
    {
        var warmup = new ChildWarmup(null, new HashSet<IPEndPoint>());

        Assert.True(warmup.Done.IsCompleted);
    }

    [Fact]
    public void Done_WithPath_CompletesOnlyWhenFinished()
    {
        var warmup = new ChildWarmup("/", new HashSet<IPEndPoint>());
        Assert.False(warmup.Done.IsCompleted);

        warmup.Finish();

        Assert.True(warmup.Done.IsCompleted);
    }
}

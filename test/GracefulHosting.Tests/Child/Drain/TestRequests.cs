using Microsoft.AspNetCore.Http;

namespace GracefulHosting.Tests.Child.Drain;

internal static class TestRequests
{
    /// <summary>A request on the connection <paramref name="connectionId"/>, in <paramref name="protocol"/>, as Kestrel would hand it to the app.</summary>
    public static DefaultHttpContext On(string connectionId, string protocol = "HTTP/2")
    {
        var context = new DefaultHttpContext();
        context.Request.Protocol = protocol;
        context.Connection.Id = connectionId;
        return context;
    }
}

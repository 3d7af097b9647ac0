using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace GracefulHosting.Child;

/// <summary>
/// Puts one middleware in front of the app: once the child drains, each HTTP/1.x response says
/// <c>Connection: close</c> and each HTTP/2 connection is asked to close (GOAWAY), so clients stop
/// reusing connections to this generation before Kestrel closes them.
/// </summary>
internal sealed class DrainStartupFilter : IStartupFilter
{
    private readonly DrainState _drain;

    public DrainStartupFilter(DrainState drain) => _drain = drain;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            // Checked as each request arrives. A request already running when draining begins needs
            // no mark: its connection's next request gets one, and Kestrel's own stop ends keep-alive
            // for requests still running then. That keeps the serving path free of per-request work.
            if (_drain.IsDraining)
            {
                CloseAfterResponse(context);
            }

            return nextMiddleware(context);
        });
        next(app);
    };

    private static void CloseAfterResponse(HttpContext context)
    {
        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        {
            if (!context.Response.HasStarted)
            {
                context.Response.Headers[HeaderNames.Connection] = "close";
            }
        }
        else
        {
            context.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }
    }
}

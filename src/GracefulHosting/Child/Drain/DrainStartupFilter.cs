using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace GracefulHosting.Child.Drain;

// Ahead of the app's middleware, so that clients stop reusing this generation's connections before Kestrel closes them.
internal sealed class DrainStartupFilter : IStartupFilter
{
    private readonly DrainState _drain;
    private readonly LongLivedConnections _longLived;
    private readonly bool _grpc;

    public DrainStartupFilter(DrainState drain, LongLivedConnections longLived, IOptions<GracefulRestartOptions> options)
    {
        _drain = drain;
        _longLived = longLived;
        _grpc = options.Value.EndGrpcStreams;
    }

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

            var candidate = LongLivedConnections.Recognise(context, _grpc);
            return candidate == LongLivedCandidate.None
                ? nextMiddleware(context)
                : _longLived.RunAsync(context, nextMiddleware, candidate);
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

using GracefulHosting.Child.Drain;
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
    private readonly GoAwayWindow _goAway;
    private readonly bool _grpc;

    public DrainStartupFilter(DrainState drain, LongLivedConnections longLived, GoAwayWindow goAway, IOptions<GracefulRestartOptions> options)
    {
        _drain = drain;
        _longLived = longLived;
        _goAway = goAway;
        _grpc = options.Value.EndGrpcStreams;
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            // Checked as each request arrives. A request already running when draining begins needs
            // no mark: its connection's next request gets one, and Kestrel's own stop ends keep-alive
            // for requests still running then. That keeps the serving path free of per-request work.
            bool hold = false;
            long until = 0;
            if (_drain.IsDraining)
            {
                CloseAfterResponse(context);
                hold = _goAway.TryHold(context, out until);
            }

            var candidate = LongLivedConnections.Recognise(context, _grpc);
            var pipeline = candidate == LongLivedCandidate.None
                ? nextMiddleware(context)
                : _longLived.RunAsync(context, nextMiddleware, candidate);
            return hold ? _goAway.HoldAsync(context, pipeline, until) : pipeline;
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

using System.Collections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;

namespace GracefulHosting.Child.Drain;

// UseWebSockets() and UseRequestTimeouts() set their features after the library's middleware, so they are wrapped as they are set.
internal sealed class FeatureCapture : IFeatureCollection
{
    private readonly IFeatureCollection _inner;
    private readonly LongLivedRequest _request;
    private readonly bool _grpc;

    private FeatureCapture(IFeatureCollection inner, LongLivedRequest request, bool grpc)
    {
        _inner = inner;
        _request = request;
        _grpc = grpc;
    }

    public static HttpContext CaptureWebSocket(HttpContext context, LongLivedRequest request)
    {
        var features = context.Features;
        if (features.Get<IHttpWebSocketFeature>() is { } present)
        {
            // A server that offers WebSockets itself: wrap its feature in place.
            features.Set<IHttpWebSocketFeature>(new TrackedWebSocketFeature(present, request));
            return context;
        }

        return View(context, request, grpc: false);
    }

    public static HttpContext CaptureGrpc(HttpContext context, LongLivedRequest request)
    {
        var features = context.Features;
        features.Set<IHttpRequestTimeoutFeature>(new GrpcStreamingSignal(features.Get<IHttpRequestTimeoutFeature>(), request));
        return View(context, request, grpc: true);
    }

    private static DefaultHttpContext View(HttpContext context, LongLivedRequest request, bool grpc)
    {
        // The request's services live in the feature collection once asked for; ask now, because the
        // new context has no scope factory of its own to create them.
        _ = context.RequestServices;
        return new DefaultHttpContext(new FeatureCapture(context.Features, request, grpc));
    }

    public bool IsReadOnly => _inner.IsReadOnly;

    public int Revision => _inner.Revision;

    public object? this[Type key]
    {
        get => _inner[key];
        set => _inner[key] = value switch
        {
            IHttpWebSocketFeature feature and not TrackedWebSocketFeature when key == typeof(IHttpWebSocketFeature) =>
                new TrackedWebSocketFeature(feature, _request),
            IHttpRequestTimeoutFeature feature and not GrpcStreamingSignal when _grpc && key == typeof(IHttpRequestTimeoutFeature) =>
                new GrpcStreamingSignal(feature, _request),
            _ => value,
        };
    }

    public TFeature? Get<TFeature>() => _inner.Get<TFeature>();

    public void Set<TFeature>(TFeature? instance) => this[typeof(TFeature)] = instance;

    public IEnumerator<KeyValuePair<Type, object>> GetEnumerator() => _inner.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

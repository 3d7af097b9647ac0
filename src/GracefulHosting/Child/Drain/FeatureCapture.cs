using System.Collections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;

namespace GracefulHosting.Child.Drain;

/// <summary>
/// The request's own feature collection, seen through a view that wraps two features when middleware
/// after the library's sets them: the WebSocket feature of the app's <c>UseWebSockets()</c>, and the
/// request timeout feature of <c>UseRequestTimeouts()</c>, whose <c>DisableTimeout()</c> is how a gRPC
/// call says it streams. Such middleware runs after the library's, so the library cannot wrap the
/// feature up front; this view hands every other read and write straight through, so the app and the
/// server still share one collection.
/// </summary>
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

    /// <summary>
    /// The context the rest of the pipeline sees for a request that may become a WebSocket: a context
    /// over the same features whose WebSocket feature, once set, reports each accepted socket.
    /// </summary>
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

    /// <summary>
    /// The context the rest of the pipeline sees for a gRPC call: a context over the same features whose
    /// request timeout feature, now and once middleware replaces it, tells the library when the call streams.
    /// </summary>
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

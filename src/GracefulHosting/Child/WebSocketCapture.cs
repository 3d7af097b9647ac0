using System.Collections;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GracefulHosting.Child;

/// <summary>
/// The request's own feature collection, seen through a view that wraps the WebSocket feature when
/// the app's <c>UseWebSockets()</c> middleware sets it. That middleware runs after the library's, so
/// the library cannot wrap the feature up front; this view hands every other read and write straight
/// through, so the app and the server still share one collection.
/// </summary>
internal sealed class WebSocketCapture : IFeatureCollection
{
    private readonly IFeatureCollection _inner;
    private readonly LongLivedRequest _request;

    private WebSocketCapture(IFeatureCollection inner, LongLivedRequest request)
    {
        _inner = inner;
        _request = request;
    }

    /// <summary>
    /// The context the rest of the pipeline sees for a request that may become a WebSocket: a context
    /// over the same features whose WebSocket feature, once set, reports each accepted socket.
    /// </summary>
    public static HttpContext Capture(HttpContext context, LongLivedRequest request)
    {
        var features = context.Features;
        if (features.Get<IHttpWebSocketFeature>() is { } present)
        {
            // A server that offers WebSockets itself: wrap its feature in place.
            features.Set<IHttpWebSocketFeature>(new TrackedWebSocketFeature(present, request));
            return context;
        }

        // The request's services live in the feature collection once asked for; ask now, because the
        // new context has no scope factory of its own to create them.
        _ = context.RequestServices;
        return new DefaultHttpContext(new WebSocketCapture(features, request));
    }

    public bool IsReadOnly => _inner.IsReadOnly;

    public int Revision => _inner.Revision;

    public object? this[Type key]
    {
        get => _inner[key];
        set => _inner[key] = key == typeof(IHttpWebSocketFeature) && value is IHttpWebSocketFeature feature and not TrackedWebSocketFeature
            ? new TrackedWebSocketFeature(feature, _request)
            : value;
    }

    public TFeature? Get<TFeature>() => _inner.Get<TFeature>();

    public void Set<TFeature>(TFeature? instance) => this[typeof(TFeature)] = instance;

    public IEnumerator<KeyValuePair<Type, object>> GetEnumerator() => _inner.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A WebSocket feature whose accepted sockets the library knows about.</summary>
internal sealed class TrackedWebSocketFeature : IHttpWebSocketFeature
{
    private readonly IHttpWebSocketFeature _inner;
    private readonly LongLivedRequest _request;

    public TrackedWebSocketFeature(IHttpWebSocketFeature inner, LongLivedRequest request)
    {
        _inner = inner;
        _request = request;
    }

    public bool IsWebSocketRequest => _inner.IsWebSocketRequest;

    public async Task<WebSocket> AcceptAsync(WebSocketAcceptContext context) =>
        _request.Accepted(await _inner.AcceptAsync(context).ConfigureAwait(false));
}

using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GracefulHosting.Child.Drain;

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

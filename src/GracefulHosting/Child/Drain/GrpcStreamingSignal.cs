using Microsoft.AspNetCore.Http.Timeouts;

namespace GracefulHosting.Child.Drain;

// Grpc.AspNetCore disables the request timeout of every streaming call and of no unary call: that tells the drain which calls to end.
internal sealed class GrpcStreamingSignal : IHttpRequestTimeoutFeature
{
    private readonly IHttpRequestTimeoutFeature? _inner;
    private readonly LongLivedRequest _request;

    public GrpcStreamingSignal(IHttpRequestTimeoutFeature? inner, LongLivedRequest request)
    {
        _inner = inner;
        _request = request;
    }

    public CancellationToken RequestTimeoutToken => _inner?.RequestTimeoutToken ?? CancellationToken.None;

    public void DisableTimeout()
    {
        _inner?.DisableTimeout();
        _request.GrpcStreaming();
    }
}

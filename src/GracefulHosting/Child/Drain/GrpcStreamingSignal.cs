using Microsoft.AspNetCore.Http.Timeouts;

namespace GracefulHosting.Child.Drain;

/// <summary>
/// The request timeout feature of a gRPC call, as the library sees it. Grpc.AspNetCore disables the
/// request timeout of every call that streams (server, client or both ways) and never of a unary call,
/// through this public ASP.NET Core feature; so the call that does so is a streaming call, which the
/// drain must end, while a unary call finishes like any other request. The timeout itself, if
/// <c>UseRequestTimeouts()</c> set one, is still the framework's.
/// </summary>
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

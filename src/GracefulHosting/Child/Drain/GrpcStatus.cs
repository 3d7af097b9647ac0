using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GracefulHosting.Child.Drain;

/// <summary>The gRPC status a streaming call ends with when its generation drains.</summary>
internal static class GrpcStatus
{
    /// <summary>The media type of gRPC and of its variants (<c>application/grpc+proto</c>, <c>application/grpc-web-text</c>, ...).</summary>
    public const string ContentType = "application/grpc";

    /// <summary>UNAVAILABLE: the code clients retry, and the one that says the server is going away.</summary>
    public const string Unavailable = "14";

    /// <summary>The status message; plain ASCII with no '%', so it needs no percent-encoding.</summary>
    public const string RestartingMessage = "Server restarting; call again to reach the new generation";

    /// <summary>
    /// True for a request whose content type is gRPC's: <c>application/grpc</c>, alone or followed by
    /// <c>+format</c>, <c>-web</c> variants or parameters.
    /// </summary>
    public static bool IsGrpc(string? contentType) =>
        contentType is not null &&
        contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase) &&
        (contentType.Length == ContentType.Length || contentType[ContentType.Length] is '+' or '-' or ';');

    /// <summary>
    /// Makes the call end with status UNAVAILABLE: in the trailers once the response has started, else
    /// in the headers of a trailers-only response, where gRPC puts the status when no message was sent.
    /// Overwrites the status the service method ended with, which is about the cancellation, not the
    /// restart. Does nothing once the response's trailers are sent.
    /// </summary>
    public static void SetUnavailable(HttpResponse response)
    {
        var destination = response.HasStarted ? response.HttpContext.Features.Get<IHttpResponseTrailersFeature>()?.Trailers : response.Headers;
        if (destination is null || destination.IsReadOnly)
        {
            return;
        }

        destination["grpc-status"] = Unavailable;
        destination["grpc-message"] = RestartingMessage;
    }
}

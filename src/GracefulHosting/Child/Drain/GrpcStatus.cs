using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace GracefulHosting.Child.Drain;

internal static class GrpcStatus
{
    // Also the prefix of its variants: application/grpc+proto, application/grpc-web-text, ...
    public const string ContentType = "application/grpc";

    // UNAVAILABLE: the code clients retry, and the one that says the server is going away.
    public const string Unavailable = "14";

    // Plain ASCII with no '%', so it needs no percent-encoding.
    public const string RestartingMessage = "Server restarting; call again to reach the new generation";

    public static bool IsGrpc(string? contentType) =>
        contentType is not null &&
        contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase) &&
        (contentType.Length == ContentType.Length || contentType[ContentType.Length] is '+' or '-' or ';');

    // Overwrites the status the method ended with, which is about the cancellation, not the restart.
    public static void SetUnavailable(HttpResponse response)
    {
        // With no message sent, gRPC puts the status in the headers of a trailers-only response.
        var destination = response.HasStarted ? response.HttpContext.Features.Get<IHttpResponseTrailersFeature>()?.Trailers : response.Headers;
        if (destination is null || destination.IsReadOnly)
        {
            return;
        }

        destination["grpc-status"] = Unavailable;
        destination["grpc-message"] = RestartingMessage;
    }
}

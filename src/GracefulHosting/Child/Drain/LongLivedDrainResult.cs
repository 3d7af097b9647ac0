namespace GracefulHosting.Child.Drain;

/// <summary>How a drain dealt with the long-lived requests of a generation.</summary>
/// <param name="WebSocketsClosed">WebSockets that got a close frame with status 1001 from the library.</param>
/// <param name="WebSocketsAlreadyClosing">WebSockets that the app or the client was closing already.</param>
/// <param name="GrpcStreamsEnded">Streaming gRPC calls whose <c>RequestAborted</c> the library fired, to end with status UNAVAILABLE.</param>
/// <param name="EventStreamsEnded">Event streams whose <c>RequestAborted</c> the library fired.</param>
/// <param name="MarkedEnded">Responses of marked endpoints whose <c>RequestAborted</c> the library fired.</param>
/// <param name="Aborted">Requests still open at the end of the grace period, aborted by the library.</param>
/// <param name="Elapsed">From the start of the drain until the last one finished or was aborted.</param>
internal readonly record struct LongLivedDrainResult(
    int WebSocketsClosed, int WebSocketsAlreadyClosing, int GrpcStreamsEnded, int EventStreamsEnded, int MarkedEnded, int Aborted, TimeSpan Elapsed)
{
    public int Total => WebSocketsClosed + WebSocketsAlreadyClosing + GrpcStreamsEnded + EventStreamsEnded + MarkedEnded;
}

namespace GracefulHosting.Child.Drain;

/// <summary>What kind of request the drain middleware tracks from its start.</summary>
internal enum LongLivedCandidate
{
    /// <summary>An ordinary request: not tracked.</summary>
    None,

    /// <summary>An HTTP/1.1 upgrade or an HTTP/2 extended CONNECT: it may become a WebSocket.</summary>
    WebSocket,

    /// <summary>A request that accepts <c>text/event-stream</c>, as every <c>EventSource</c> sends.</summary>
    EventStream,

    /// <summary>A gRPC call (content type <c>application/grpc</c> or a variant): long-lived if it turns out to stream.</summary>
    Grpc,
}

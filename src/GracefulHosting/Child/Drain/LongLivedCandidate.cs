namespace GracefulHosting.Child.Drain;

internal enum LongLivedCandidate
{
    None,

    // An HTTP/1.1 upgrade or an HTTP/2 extended CONNECT.
    WebSocket,

    // Accepts text/event-stream, as every EventSource does.
    EventStream,

    // Long-lived only if it turns out to stream.
    Grpc,
}

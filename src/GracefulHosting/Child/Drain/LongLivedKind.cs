namespace GracefulHosting.Child.Drain;

internal enum LongLivedKind
{
    // Not yet: a WebSocket handshake not accepted, or a response not started as an event stream.
    None,

    WebSocket,

    EventStream,

    Marked,

    // Unary calls never become one.
    GrpcStream,
}

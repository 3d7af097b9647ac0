namespace GracefulHosting.Child.Drain;

/// <summary>What a tracked request turned out to be.</summary>
internal enum LongLivedKind
{
    /// <summary>Not long-lived (yet): a WebSocket handshake not accepted, or a response not started as an event stream.</summary>
    None,

    /// <summary>An accepted WebSocket.</summary>
    WebSocket,

    /// <summary>A started <c>text/event-stream</c> response.</summary>
    EventStream,

    /// <summary>A request to an endpoint marked <see cref="LongLivedAttribute"/>.</summary>
    Marked,

    /// <summary>A gRPC call that streams (server, client or both ways); unary calls never become one.</summary>
    GrpcStream,
}

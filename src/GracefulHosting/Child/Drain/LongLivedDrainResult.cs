namespace GracefulHosting.Child.Drain;

internal readonly record struct LongLivedDrainResult(
    int WebSocketsClosed, int WebSocketsAlreadyClosing, int GrpcStreamsEnded, int EventStreamsEnded, int MarkedEnded, int Aborted, TimeSpan Elapsed)
{
    public int Total => WebSocketsClosed + WebSocketsAlreadyClosing + GrpcStreamsEnded + EventStreamsEnded + MarkedEnded;
}

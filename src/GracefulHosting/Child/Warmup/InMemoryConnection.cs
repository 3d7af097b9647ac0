using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace GracefulHosting.Child.Warmup;

// Not DefaultConnectionContext: Kestrel may abort and dispose back to back, and that one's queued Cancel() then throws and ends the process.
internal sealed class InMemoryConnection : ConnectionContext, IConnectionLifetimeFeature, IConnectionEndPointFeature, IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature
{
    private readonly CancellationTokenSource _closed = new();

    public InMemoryConnection(string id, IDuplexPipe transport, EndPoint? localEndPoint, EndPoint? remoteEndPoint)
    {
        ConnectionId = id;
        Transport = transport;
        LocalEndPoint = localEndPoint;
        RemoteEndPoint = remoteEndPoint;
        ConnectionClosed = _closed.Token;
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IConnectionEndPointFeature>(this);
        Features.Set<IConnectionIdFeature>(this);
        Features.Set<IConnectionTransportFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public static Stream Open(string prefix, EndPoint local, Action<ConnectionContext> hand)
    {
        var toServer = new Pipe();
        var fromServer = new Pipe();
        hand(new InMemoryConnection(
            prefix + "-" + Guid.NewGuid().ToString("N")[..8],
            new DuplexPipe(toServer.Reader, fromServer.Writer),
            local,
            new IPEndPoint(IPAddress.Loopback, 0)));
        return new PipeStream(fromServer.Reader, toServer.Writer);
    }

    public bool IsAborted { get; private set; }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        IsAborted = true;
        CompletePipes();
        // Not inline: Abort is called from inside Kestrel's own processing, which must not run the
        // ConnectionClosed callbacks re-entrantly.
        ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.SignalClosed(), this, preferLocal: false);
    }

    // Keeps the token source: it holds nothing to release, and an abort queued just before may still cancel it.
    public override ValueTask DisposeAsync()
    {
        CompletePipes();
        return ValueTask.CompletedTask;
    }

    private void CompletePipes()
    {
        Transport.Output.Complete();
        Transport.Input.Complete();
    }

    internal void SignalClosed()
    {
        try
        {
            _closed.Cancel();
        }
        catch (AggregateException)
        {
            // A ConnectionClosed callback failed; the connection is closed all the same, and the
            // exception must not end the process from the thread pool.
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

using Grpc.Core;

namespace GrpcApp;

/// <summary>The service, as users write one: each method honours the call's cancellation token.</summary>
public sealed class TickerService : Ticker.TickerBase
{
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(100);

    public override Task<HelloReply> Hello(HelloRequest request, ServerCallContext context) =>
        Task.FromResult(new HelloReply { Message = $"Hello {request.Name}", Pid = Environment.ProcessId });

    public override async Task Ticks(TicksRequest request, IServerStreamWriter<Tick> responseStream, ServerCallContext context)
    {
        for (long sequence = 0; ; sequence++)
        {
            await responseStream.WriteAsync(new Tick { Sequence = sequence, Pid = Environment.ProcessId }, context.CancellationToken);
            await Task.Delay(TickInterval, context.CancellationToken);
        }
    }

    public override async Task Echo(IAsyncStreamReader<EchoMessage> requestStream, IServerStreamWriter<EchoMessage> responseStream, ServerCallContext context)
    {
        await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(new EchoMessage { Text = message.Text, Pid = Environment.ProcessId }, context.CancellationToken);
        }
    }

    public override async Task<HoldReply> Hold(HoldRequest request, ServerCallContext context)
    {
        await context.WriteResponseHeadersAsync([]);
        await Task.Delay(Timeout.Infinite, context.CancellationToken);
        return new HoldReply();
    }
}

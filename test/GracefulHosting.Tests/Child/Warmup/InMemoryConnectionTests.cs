using System.IO.Pipelines;
using GracefulHosting.Child.Warmup;

namespace GracefulHosting.Tests.Child.Warmup;

public class InMemoryConnectionTests
{
    [Fact]
    public async Task Abort_DisposedBackToBackManyTimes_EveryConnectionClosedSignalledWithoutThrowing()
    {
        // Kestrel aborts a finished connection and disposes it at once. The abort's signal runs later on
        // the thread pool; if it threw there (a disposed token source), the whole process would end.
        const int count = 5000;
        var closed = new List<Task>(count);
        for (int i = 0; i < count; i++)
        {
            var connection = Create();
            var signalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.ConnectionClosed.Register(() => signalled.TrySetResult());
            closed.Add(signalled.Task);

            connection.Abort();
            await connection.DisposeAsync();
        }

        await Task.WhenAll(closed).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(closed, task => Assert.True(task.IsCompletedSuccessfully));
    }

    [Fact]
    public async Task Abort_ClosedCallbackThrows_OtherCallbacksStillRun()
    {
        var connection = Create();
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionClosed.Register(() => throw new InvalidOperationException("a faulty callback"));
        connection.ConnectionClosed.Register(() => second.TrySetResult());

        connection.Abort();

        await second.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(connection.IsAborted);
    }

    [Fact]
    public async Task DisposeAsync_WithoutAbort_ClosedNotSignalled()
    {
        var connection = Create();

        await connection.DisposeAsync();

        Assert.False(connection.ConnectionClosed.IsCancellationRequested);
        Assert.False(connection.IsAborted);
    }

    private static InMemoryConnection Create()
    {
        var pipe = new Pipe();
        return new InMemoryConnection("test", new Duplex(pipe.Reader, pipe.Writer), null, null);
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

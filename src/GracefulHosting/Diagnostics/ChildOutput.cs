using System.Diagnostics;

namespace GracefulHosting.Diagnostics;

// Each child writes to pipes of its own: sharing the master's descriptors let lines written at once by several processes splice.
internal sealed class ChildOutput
{
    // A process the child started may hold the pipes open.
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);

    private static readonly Lazy<Stream> StandardOutput = new(Console.OpenStandardOutput);
    private static readonly Lazy<Stream> StandardError = new(Console.OpenStandardError);

    // A stalled master output must not hold readiness.
    public static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly (LinePump Pump, int Fd)[] _pipes;

    private ChildOutput(Task completion, (LinePump Pump, int Fd)[] pipes, TimeProvider time)
    {
        Completion = completion;
        _pipes = pipes;
        _time = time;
    }

    public Task Completion { get; }

    public static ChildOutput Forward(Process process, TimeProvider time)
    {
        // The master's own console writes take Console.Out's lock, one line each: so do ours, for both
        // streams, since standard output and error are often the same file or journal stream.
        object gate = Console.Out;
        var pipes = new[]
        {
            Pipe(process.StandardOutput.BaseStream, StandardOutput.Value, gate),
            Pipe(process.StandardError.BaseStream, StandardError.Value, gate),
        };
        return new ChildOutput(Task.WhenAll(
            RunThenCloseAsync(pipes[0].Pump, process.StandardOutput.BaseStream),
            RunThenCloseAsync(pipes[1].Pump, process.StandardError.BaseStream)), pipes, time);
    }

    // Closes our end too, so that a master that runs for years holds no pipe per child.
    private static async Task RunThenCloseAsync(LinePump pump, Stream source)
    {
        await pump.RunAsync().ConfigureAwait(false);
        await source.DisposeAsync().ConfigureAwait(false);
    }

    // Awaited before the master acts on a child's message, so that the child's log comes first.
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public Task CatchUpAsync() => Task.WhenAny(
        Task.WhenAll(_pipes.Select(p => p.Pump.CatchUpAsync(() => Interop.Libc.BytesToRead(p.Fd)))),
        Task.Delay(CatchUpTimeout, _time));

    private static (LinePump Pump, int Fd) Pipe(Stream source, Stream target, object gate) =>
        (new LinePump(source, target, gate), source is System.IO.Pipes.PipeStream pipe ? (int)pipe.SafePipeHandle.DangerousGetHandle() : -1);

    public Task WaitDrainedAsync() => Task.WhenAny(Completion, Task.Delay(DrainTimeout, _time));
}

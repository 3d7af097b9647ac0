using System.Diagnostics;

namespace GracefulHosting.Diagnostics;

/// <summary>
/// Forwards a child's standard output and standard error, each a pipe of its own, onto the master's,
/// whole lines at a time (see <see cref="LinePump"/>). Sharing the master's descriptors instead let
/// lines written at once by several processes splice into each other.
/// </summary>
internal sealed class ChildOutput
{
    /// <summary>How long a child's exit waits for the rest of its output: a process it started may hold the pipes open.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);

    private static readonly Lazy<Stream> StandardOutput = new(Console.OpenStandardOutput);
    private static readonly Lazy<Stream> StandardError = new(Console.OpenStandardError);

    /// <summary>How long a READY=1 waits for the lines the child wrote before it: a stalled master output must not hold readiness.</summary>
    public static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly (LinePump Pump, int Fd)[] _pipes;

    private ChildOutput(Task completion, (LinePump Pump, int Fd)[] pipes, TimeProvider time)
    {
        Completion = completion;
        _pipes = pipes;
        _time = time;
    }

    /// <summary>Completes when both pipes have ended and everything read from them is written.</summary>
    public Task Completion { get; }

    /// <summary>Starts forwarding the redirected output and error of <paramref name="process"/>.</summary>
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

    /// <summary>Forwards until the child's end of the pipe is closed, then closes ours, so a master that runs for years holds no pipe per child.</summary>
    private static async Task RunThenCloseAsync(LinePump pump, Stream source)
    {
        await pump.RunAsync().ConfigureAwait(false);
        await source.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Completes once the lines the child wrote before now are forwarded (or after <see cref="CatchUpTimeout"/>):
    /// awaited before the master acts on a message of the child, so that the child's log comes first.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public Task CatchUpAsync() => Task.WhenAny(
        Task.WhenAll(_pipes.Select(p => p.Pump.CatchUpAsync(() => Interop.Libc.BytesToRead(p.Fd)))),
        Task.Delay(CatchUpTimeout, _time));

    private static (LinePump Pump, int Fd) Pipe(Stream source, Stream target, object gate) =>
        (new LinePump(source, target, gate), source is System.IO.Pipes.PipeStream pipe ? (int)pipe.SafePipeHandle.DangerousGetHandle() : -1);

    /// <summary>Waits until what the child wrote before it exited is forwarded, for at most <see cref="DrainTimeout"/>.</summary>
    public Task WaitDrainedAsync() => Task.WhenAny(Completion, Task.Delay(DrainTimeout, _time));
}

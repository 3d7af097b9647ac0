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

    private readonly TimeProvider _time;

    private ChildOutput(Task completion, TimeProvider time)
    {
        Completion = completion;
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
        var output = new LinePump(process.StandardOutput.BaseStream, StandardOutput.Value, gate).RunAsync();
        var error = new LinePump(process.StandardError.BaseStream, StandardError.Value, gate).RunAsync();
        return new ChildOutput(Task.WhenAll(output, error), time);
    }

    /// <summary>Waits until what the child wrote before it exited is forwarded, for at most <see cref="DrainTimeout"/>.</summary>
    public Task WaitDrainedAsync() => Task.WhenAny(Completion, Task.Delay(DrainTimeout, _time));
}

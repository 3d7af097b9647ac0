using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace GracefulHosting.Child;

/// <summary>
/// Warms a new generation up before it takes real connections: a few requests to
/// <see cref="GracefulRestartOptions.WarmupPath"/> go through Kestrel and the app's whole pipeline
/// over an in-memory connection, so the first clients do not pay for just-in-time compilation.
/// Until it finishes, the inherited listeners accept nothing and the child does not report ready;
/// the old generation keeps serving meanwhile.
/// </summary>
internal sealed class ChildWarmup
{
    public const int RequestCount = 2;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ChildWarmup(string? path, IReadOnlySet<IPEndPoint> plainHttpAddresses)
    {
        Path = path;
        PlainHttpAddresses = plainHttpAddresses;
        if (path is null)
        {
            _done.SetResult();
        }
    }

    /// <summary>The path to request, or null when warm-up is off.</summary>
    public string? Path { get; }

    /// <summary>Addresses of endpoints that speak plain HTTP/1.1, over which a warm-up request can go.</summary>
    public IReadOnlySet<IPEndPoint> PlainHttpAddresses { get; }

    /// <summary>Completes when the listeners may accept real connections.</summary>
    public Task Done => _done.Task;

    public void Finish() => _done.TrySetResult();

    /// <summary>Sends the warm-up requests through <paramref name="listener"/>; returns the status codes seen.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task<IReadOnlyList<int>> RunAsync(InheritedConnectionListener listener)
    {
        var toKestrel = new Pipe();
        var fromKestrel = new Pipe();
        var connection = new WarmupConnection(
            "warmup-" + Guid.NewGuid().ToString("N")[..8],
            new DuplexPipe(toKestrel.Reader, fromKestrel.Writer),
            new DuplexPipe(fromKestrel.Reader, toKestrel.Writer))
        {
            LocalEndPoint = listener.EndPoint,
            RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        };

        var request = new StringBuilder();
        for (int i = 1; i <= RequestCount; i++)
        {
            request.Append("GET ").Append(Path).Append(" HTTP/1.1\r\nHost: localhost\r\nUser-Agent: GracefulHosting-warmup\r\n");
            request.Append(i == RequestCount ? "Connection: close\r\n\r\n" : "\r\n");
        }

        listener.Inject(connection);
        await toKestrel.Writer.WriteAsync(Encoding.ASCII.GetBytes(request.ToString())).ConfigureAwait(false);

        using var timeout = new CancellationTokenSource(Timeout);
        var response = new StringBuilder();
        try
        {
            while (true)
            {
                var result = await fromKestrel.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                response.Append(Encoding.ASCII.GetString(result.Buffer.ToArray()));
                fromKestrel.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || HasAllResponseHeads(response.ToString()))
                {
                    break;
                }
            }
        }
        finally
        {
            await toKestrel.Writer.CompleteAsync().ConfigureAwait(false);
            await fromKestrel.Reader.CompleteAsync().ConfigureAwait(false);
        }

        return ParseStatuses(response.ToString());
    }

    /// <summary>True once the head of the last response has arrived; the body does not matter here.</summary>
    private static bool HasAllResponseHeads(string response)
    {
        int last = response.LastIndexOf("HTTP/1.1 ", StringComparison.Ordinal);
        return ParseStatuses(response).Count >= RequestCount && response.IndexOf("\r\n\r\n", last, StringComparison.Ordinal) >= 0;
    }

    internal static IReadOnlyList<int> ParseStatuses(string response)
    {
        var statuses = new List<int>();
        int index = 0;
        while ((index = response.IndexOf("HTTP/1.1 ", index, StringComparison.Ordinal)) >= 0)
        {
            if (index + 12 <= response.Length && int.TryParse(response.AsSpan(index + 9, 3), out int status))
            {
                statuses.Add(status);
            }

            index += 9;
        }

        return statuses;
    }

    /// <summary>
    /// An in-memory connection whose disposal leaves its close token's source alone: Kestrel aborts a
    /// connection and then disposes it, and <see cref="DefaultConnectionContext"/> cancels that source
    /// on a thread-pool thread, which throws (and ends the process) once disposal came first.
    /// </summary>
    private sealed class WarmupConnection(string id, IDuplexPipe transport, IDuplexPipe application)
        : DefaultConnectionContext(id, transport, application)
    {
        public override ValueTask DisposeAsync() => default;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

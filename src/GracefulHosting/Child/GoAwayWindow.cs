using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Child;

/// <summary>
/// Keeps each HTTP/2 connection of a draining generation accepting streams for a short window after
/// its first GOAWAY: <see cref="GracefulRestartOptions.Http2GoAwayWindow"/> plus twice the connection's
/// measured round-trip time. Asked to close a connection with a stream open, Kestrel sends GOAWAY with
/// the largest possible stream id (2^31-1), then the final GOAWAY, which refuses every later stream, as
/// soon as it finds no stream open; it waits no round trip between the two (RFC 9113, section 6.8), so
/// streams the client sent before it read the first one are lost to clients that do not send them
/// again. Holding the connection's first request of the drain open until the window has passed keeps
/// Kestrel from sending the final GOAWAY before then; the response goes out at once, only the end of
/// its stream waits.
/// </summary>
internal sealed class GoAwayWindow
{
    // A round trip longer than this is a stalled connection, not one to wait for.
    private static readonly TimeSpan MaxRoundTrip = TimeSpan.FromMilliseconds(500);

    // One held request per connection for the rest of the drain, which ends with the process.
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);
    private readonly TimeSpan _window;
    private readonly TimeProvider _time;
    private readonly Func<HttpContext, TimeSpan?> _roundTrip;

    public GoAwayWindow(IOptions<GracefulRestartOptions> options, TimeProvider time)
        : this(options, time, MeasuredRoundTrip)
    {
    }

    /// <param name="options">The options, for <see cref="GracefulRestartOptions.Http2GoAwayWindow"/>.</param>
    /// <param name="time">The clock.</param>
    /// <param name="roundTrip">The round-trip time of a request's connection, when known.</param>
    internal GoAwayWindow(IOptions<GracefulRestartOptions> options, TimeProvider time, Func<HttpContext, TimeSpan?> roundTrip)
    {
        _window = options.Value.Http2GoAwayWindow;
        _time = time;
        _roundTrip = roundTrip;
    }

    /// <summary>
    /// Whether <paramref name="context"/>, a request that arrived during the drain, is the one to hold open:
    /// the first HTTP/2 request on its connection since the drain began. <paramref name="until"/> is the
    /// timestamp (of the <see cref="TimeProvider"/>) until which it stays open.
    /// </summary>
    public bool TryHold(HttpContext context, out long until)
    {
        until = 0;
        if (_window <= TimeSpan.Zero || !HttpProtocol.IsHttp2(context.Request.Protocol) || !_held.TryAdd(context.Connection.Id, 0))
        {
            return false;
        }

        var window = _window;
        if (_roundTrip(context) is { } roundTrip)
        {
            window += 2 * (roundTrip < MaxRoundTrip ? roundTrip : MaxRoundTrip);
        }

        until = _time.GetTimestamp() + (long)(window.TotalSeconds * _time.TimestampFrequency);
        return true;
    }

    /// <summary>
    /// Completes when <paramref name="pipeline"/> has and the window has passed (at <paramref name="until"/>),
    /// or the request is aborted. A response the pipeline has not started is sent at once.
    /// </summary>
    public async Task HoldAsync(HttpContext context, Task pipeline, long until)
    {
        await pipeline.ConfigureAwait(false);
        var left = _time.GetElapsedTime(_time.GetTimestamp(), until);
        var aborted = context.RequestAborted;
        if (left <= TimeSpan.Zero || aborted.IsCancellationRequested)
        {
            return;
        }

        try
        {
            // The headers of a response without a body would otherwise wait for the end of the stream
            // (a started one has sent what it wrote, and may have ended).
            if (!context.Response.HasStarted)
            {
                await context.Response.Body.FlushAsync(aborted).ConfigureAwait(false);
            }

            await Task.Delay(left, _time, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client reset the stream or the connection is gone: nothing is left to hold open.
        }
    }

    private static TimeSpan? MeasuredRoundTrip(HttpContext context) =>
        OperatingSystem.IsLinux() && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket
            ? Interop.TcpRoundTrip.Of(socket)
            : null;
}

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace GracefulHosting.Child.Drain;

// Kestrel sends its final GOAWAY as soon as a closing connection has no stream open, with no round trip after
// GOAWAY(2^31-1) (RFC 9113, section 6.8); holding one request open for the window lets streams in flight arrive.
internal sealed class GoAwayWindow
{
    // A longer round trip is a stalled connection, not one to wait for.
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

    internal GoAwayWindow(IOptions<GracefulRestartOptions> options, TimeProvider time, Func<HttpContext, TimeSpan?> roundTrip)
    {
        _window = options.Value.Http2GoAwayWindow;
        _time = time;
        _roundTrip = roundTrip;
    }

    // The first HTTP/2 request of a connection in the drain is the one that asks it to close: it is held until the timestamp until.
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

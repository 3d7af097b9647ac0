namespace GracefulHosting;

/// <summary>
/// Settings of the graceful restart supervisor, bound from the <c>GracefulRestart</c> configuration section.
/// </summary>
public sealed class GracefulRestartOptions
{
    /// <summary>The configuration section the options bind from: <c>GracefulRestart</c>.</summary>
    public const string SectionName = "GracefulRestart";

    /// <summary>
    /// The reserved path of the default warm-up requests, <c>/.well-known/gracefulhosting/warmup</c>,
    /// used while <see cref="WarmupPath"/> is not set.
    /// </summary>
    public const string DefaultWarmupPath = "/.well-known/gracefulhosting/warmup";

    /// <summary>
    /// Turns the library on or off. When <see langword="false"/> the app runs as if
    /// <c>UseGracefulRestart()</c> were absent. Default: <see langword="true"/>.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How the process runs: <see cref="GracefulRestartMode.Auto"/> picks the master on Linux,
    /// or the child when the process was started by a master. Default: <see cref="GracefulRestartMode.Auto"/>.
    /// </summary>
    public GracefulRestartMode Mode { get; set; } = GracefulRestartMode.Auto;

    /// <summary>
    /// The order of a restart: start the new generation first, or stop the old one first.
    /// Default: <see cref="RestartStrategy.StartFirst"/>.
    /// </summary>
    public RestartStrategy Strategy { get; set; } = RestartStrategy.StartFirst;

    /// <summary>
    /// How long a new child may take to report that it is ready before the master kills it
    /// and keeps the old generation. Default: 60 seconds.
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The path a new generation requests from itself before it accepts real connections and
    /// reports ready. Two requests go over an in-memory connection through Kestrel (and TLS, on an
    /// HTTPS endpoint) and the app's whole middleware pipeline, so the first clients do not wait for
    /// just-in-time compilation and first-use initialisation.
    /// <list type="bullet">
    /// <item><description>Not set (<see langword="null"/>, the default): the reserved path
    /// <see cref="DefaultWarmupPath"/>, which no app endpoint answers. Routing runs and answers 404, so
    /// the pipeline is warmed without running any endpoint of the app (unless the app maps a
    /// catch-all fallback route).</description></item>
    /// <item><description>A path such as <c>/healthz</c>: that route of the app, which must be a cheap
    /// GET without side effects.</description></item>
    /// <item><description>The empty string: no warm-up requests.</description></item>
    /// </list>
    /// The requests go to the first plain-HTTP endpoint and to the first HTTPS endpoint, each in the
    /// protocol it speaks (HTTP/1.1, or HTTP/2: by ALPN over TLS, with prior knowledge on a plain
    /// endpoint that is HTTP/2 only). Any status is accepted. To send other requests, check their status or pass
    /// headers, list them in <see cref="Warmup"/> instead; the two cannot be set together.
    /// Default: <see langword="null"/> (warm up with <see cref="DefaultWarmupPath"/>).
    /// </summary>
    public string? WarmupPath { get; set; }

    /// <summary>
    /// The warm-up requests of each new generation (<c>GracefulRestart:Warmup:Requests</c>), in place of
    /// the two requests of <see cref="WarmupPath"/>. Default: no requests listed.
    /// </summary>
    public GracefulRestartWarmupOptions Warmup { get; } = new();

    /// <summary>
    /// How long a stopping child may drain in-flight requests. The master sends SIGKILL to a
    /// child that is still alive after this time. Default: 30 seconds.
    /// </summary>
    public TimeSpan ExitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a stopping child keeps its open connections before Kestrel closes the idle ones.
    /// Meanwhile every HTTP/1.1 response carries <c>Connection: close</c> and HTTP/2 connections get
    /// GOAWAY, so clients move to the new generation without a request lost to a closed keep-alive
    /// connection. The wait ends early once every connection has closed. Must be less than
    /// <see cref="ExitTimeout"/>. Default: 1 second.
    /// </summary>
    public TimeSpan DrainQuietPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a draining child keeps each HTTP/2 connection accepting new streams after it has sent
    /// that connection its first GOAWAY, on top of twice the connection's round-trip time as Linux
    /// measures it for TCP (at most 1 second more). A client may send requests before it reads the
    /// GOAWAY; Kestrel refuses those as unprocessed once the connection has no request left, and clients
    /// that do not retry them report them as failed. So the first request each connection sends during
    /// the drain ends no earlier than this window after it began (its response is sent at once; only the
    /// end of its stream waits), and requests that arrive meanwhile are served by this generation, as
    /// RFC 9113 (section 6.8) recommends. This covers the client's own delay in reading the GOAWAY.
    /// Connections that send nothing during the drain are closed by Kestrel's stop as before.
    /// <c>00:00:00</c> turns it off. Must be less than <see cref="ExitTimeout"/>. Default: 50 milliseconds.
    /// </summary>
    public TimeSpan Http2GoAwayWindow { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How long WebSockets, streaming gRPC calls (see <see cref="EndGrpcStreams"/>), event streams and
    /// endpoints marked <see cref="LongLivedAttribute"/> may stay open once a child starts draining. Draining tells each of them to go at once: a WebSocket gets a
    /// close frame with status 1001 (going away), and an event stream or marked response ends (its
    /// <c>RequestAborted</c> fires and the response completes). The wait ends early once they have all
    /// finished; the ones still open after it are aborted, so the old generation exits long before
    /// <see cref="ExitTimeout"/> and the next restart is not held up. Must be less than
    /// <see cref="ExitTimeout"/>. Default: <see langword="null"/>, which means 5 seconds, or half of
    /// <see cref="ExitTimeout"/> when that is shorter.
    /// </summary>
    public TimeSpan? LongLivedGracePeriod { get; set; }

    /// <summary>
    /// Whether a draining child ends streaming gRPC calls (server, client and bidirectional streaming)
    /// like the other long-lived requests: when the drain begins, the call's <c>ServerCallContext.CancellationToken</c>
    /// (<c>HttpContext.RequestAborted</c>) fires and the call ends with status UNAVAILABLE (14) in its
    /// trailers, which clients retry against the new generation. Unary calls are never ended: they finish
    /// like any other request. A call is gRPC by its content type (<c>application/grpc</c> and its
    /// variants), and streaming when Grpc.AspNetCore disables its request timeout, as it does for every
    /// streaming method (one with explicit request timeout metadata is left to end at that timeout).
    /// <see langword="false"/> leaves gRPC calls alone: they then run until they end or Kestrel stops at
    /// <see cref="ExitTimeout"/>. Default: <see langword="true"/>.
    /// </summary>
    public bool EndGrpcStreams { get; set; } = true;

    // The set value, or its default.
    internal TimeSpan EffectiveLongLivedGracePeriod =>
        LongLivedGracePeriod ?? TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, ExitTimeout.Ticks / 2));

    /// <summary>
    /// The signal that makes the master restart its children: <c>SIGHUP</c>, <c>SIGUSR1</c> or <c>SIGUSR2</c>.
    /// Default: <c>SIGHUP</c>.
    /// </summary>
    public string RestartSignal { get; set; } = "SIGHUP";

    /// <summary>
    /// The delay before the second replacement of a child that keeps crashing; each further crash
    /// doubles it. The first replacement after a crash starts at once. Default: 1 second.
    /// </summary>
    public TimeSpan CrashRestartDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest delay between replacements of a crashing child. A child that serves this long
    /// resets the delay. Default: 30 seconds.
    /// </summary>
    public TimeSpan CrashRestartMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The path of the master's control socket, which <c>--graceful reload</c> and <c>--graceful status</c>
    /// (the app run with those arguments) talk to. A relative path is relative to the folder the master
    /// was started in. Default: <see langword="null"/>, which means <c>graceful.sock</c> in systemd's
    /// <c>$RUNTIME_DIRECTORY</c> (<c>RuntimeDirectory=</c> in the unit), else a file named after the app
    /// and the folder it was started in under <c>/tmp/gracefulhosting-&lt;uid&gt;/</c>. A path set here
    /// that cannot be listened on stops the master at start; a default one is skipped with a warning.
    /// </summary>
    public string? ControlSocket { get; set; }
}

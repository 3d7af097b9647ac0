namespace GracefulHosting;

/// <summary>
/// The warm-up of each new generation, bound from <c>GracefulRestart:Warmup</c>. Hooks added with
/// <c>AddGracefulRestartWarmup</c> run first, then these requests; the generation reports ready only
/// once both have succeeded.
/// </summary>
public sealed class GracefulRestartWarmupOptions
{
    /// <summary>
    /// The requests a new generation sends through its own pipeline before it accepts real connections
    /// (<c>GracefulRestart:Warmup:Requests:0:Path</c> and so on), in order, on each endpoint warmed up
    /// (the first plain-HTTP one and the first HTTPS one). A request that does not get its
    /// <see cref="GracefulRestartWarmupRequest.ExpectedStatus"/> fails the start, and the master keeps
    /// the generation that serves. When the list is set, <see cref="GracefulRestartOptions.WarmupPath"/>
    /// must not be. Default: empty (the requests of <see cref="GracefulRestartOptions.WarmupPath"/>).
    /// </summary>
    public IList<GracefulRestartWarmupRequest> Requests { get; } = new List<GracefulRestartWarmupRequest>();
}

namespace GracefulHosting;

/// <summary>
/// Work a new generation does before it reports ready, for first-use costs that requests cannot reach:
/// building the EF Core model, opening database connections, filling caches. Add one with
/// <c>AddGracefulRestartWarmup</c>. It is resolved from a scope of its own, so it may take scoped
/// services such as a <c>DbContext</c>.
/// </summary>
/// <remarks>
/// Warm-up runs in each generation the master starts and in <see cref="GracefulRestartMode.Direct"/> mode
/// (before it tells systemd it is ready), after the app has started and before its listeners accept.
/// It never runs in the master, nor when the library is disabled (other systems, test hosts).
/// It is bounded by <see cref="GracefulRestartOptions.StartTimeout"/>; an exception, or a hook still
/// running near the end of it, fails the start, and the master keeps the generation that serves.
/// </remarks>
public interface IGracefulRestartWarmup
{
    /// <summary>Pays the app's first-use costs.</summary>
    /// <param name="cancellationToken">Cancelled when the time left before the start timeout runs out, or the app stops.</param>
    /// <returns>A task that completes when the warm-up is done.</returns>
    Task WarmUpAsync(CancellationToken cancellationToken);
}

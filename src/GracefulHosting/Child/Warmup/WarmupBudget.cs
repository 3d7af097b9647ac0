namespace GracefulHosting.Child.Warmup;

/// <summary>
/// The time a generation's warm-up may take: what is left of <see cref="GracefulRestartOptions.StartTimeout"/>
/// since the process started, less a margin so that the generation can say why it failed before the
/// master's own timeout kills it.
/// </summary>
internal sealed class WarmupBudget : IDisposable
{
    private static readonly TimeSpan MaxMargin = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _linked;

    public WarmupBudget(TimeSpan startTimeout, TimeSpan uptime, TimeProvider time, CancellationToken stopping)
    {
        StartTimeout = startTimeout;
        _timeout = new CancellationTokenSource(Remaining(startTimeout, uptime), time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token, stopping);
    }

    public TimeSpan StartTimeout { get; }

    /// <summary>Cancelled when the time is up or the app stops.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>True once the time is up (as opposed to the app stopping).</summary>
    public bool Expired => _timeout.IsCancellationRequested;

    /// <summary>How long this process has run: the master's start timeout counts from its start.</summary>
    public static TimeSpan Uptime(TimeProvider time)
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return time.GetUtcNow() - new DateTimeOffset(process.StartTime);
    }

    /// <summary>The time left: the start timeout less the uptime and a margin of a tenth of it, at most one second.</summary>
    public static TimeSpan Remaining(TimeSpan startTimeout, TimeSpan uptime)
    {
        var margin = TimeSpan.FromTicks(Math.Min(MaxMargin.Ticks, startTimeout.Ticks / 10));
        var left = startTimeout - uptime - margin;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    public void Dispose()
    {
        _linked.Dispose();
        _timeout.Dispose();
    }
}

namespace GracefulHosting.Child.Warmup;

// Less a margin, so that the generation can say why it failed before the master's StartTimeout kills it.
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

    public CancellationToken Token => _linked.Token;

    // As opposed to the app stopping.
    public bool Expired => _timeout.IsCancellationRequested;

    // The master's start timeout counts from the process's start.
    public static TimeSpan Uptime(TimeProvider time)
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return time.GetUtcNow() - new DateTimeOffset(process.StartTime);
    }

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

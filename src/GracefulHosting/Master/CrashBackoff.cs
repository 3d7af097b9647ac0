namespace GracefulHosting.Master;

/// <summary>Exponential backoff for children that keep crashing.</summary>
internal static class CrashBackoff
{
    /// <summary>
    /// The wait before replacement number <paramref name="attempt"/> (1-based) of consecutive crashes:
    /// none for the first, then <paramref name="initial"/>, doubling up to <paramref name="max"/>.
    /// </summary>
    public static TimeSpan Delay(int attempt, TimeSpan initial, TimeSpan max)
    {
        if (attempt <= 1 || initial <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        // Pow overflows to infinity for large attempts, which Min turns into max.
        double ticks = Math.Min(initial.Ticks * Math.Pow(2, attempt - 2), max.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }
}

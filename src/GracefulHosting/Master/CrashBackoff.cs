namespace GracefulHosting.Master;

internal static class CrashBackoff
{
    // No wait before the first replacement, then initial, doubling up to max.
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

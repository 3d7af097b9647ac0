namespace GracefulHosting.Interop;

/// <summary>Linux signal numbers, in one place for the option parser (any platform) and <see cref="Libc"/>.</summary>
internal static class Signals
{
    public const int SIGHUP = 1;
    public const int SIGKILL = 9;
    public const int SIGUSR1 = 10;
    public const int SIGUSR2 = 12;
    public const int SIGTERM = 15;
}

namespace GracefulHosting.Interop;

// Defined once, for the option parser on any platform and for Libc.
internal static class Signals
{
    public const int SIGHUP = 1;
    public const int SIGKILL = 9;
    public const int SIGUSR1 = 10;
    public const int SIGUSR2 = 12;
    public const int SIGTERM = 15;
}

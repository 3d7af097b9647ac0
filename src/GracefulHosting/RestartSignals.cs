namespace GracefulHosting;

// The names GracefulRestart:RestartSignal accepts.
internal static class RestartSignals
{
    public static bool TryParse(string? name, out int signal)
    {
        signal = name?.Trim().ToUpperInvariant() switch
        {
            "SIGHUP" or "HUP" => Interop.Signals.SIGHUP,
            "SIGUSR1" or "USR1" => Interop.Signals.SIGUSR1,
            "SIGUSR2" or "USR2" => Interop.Signals.SIGUSR2,
            _ => 0,
        };
        return signal != 0;
    }
}

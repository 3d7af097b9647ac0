namespace GracefulHosting.Hosting;

// systemd's Restart=on-failure must see a failure whatever Main returns, so the code is set again on process exit.
internal static class FailureExitCode
{
    public const int Code = 1;
    private static int s_armed;

    public static void Arm()
    {
        Environment.ExitCode = Code;
        if (Interlocked.Exchange(ref s_armed, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += static (_, _) => Environment.ExitCode = Code;
        }
    }
}

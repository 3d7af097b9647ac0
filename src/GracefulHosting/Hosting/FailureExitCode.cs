namespace GracefulHosting.Hosting;

/// <summary>
/// Makes the process exit with a non-zero code when the master or a child stops because of an error,
/// whatever the app's Main returns afterwards: supervisors such as systemd's <c>Restart=on-failure</c>
/// must see the failure. The code is set again on process exit, after Main has returned.
/// </summary>
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

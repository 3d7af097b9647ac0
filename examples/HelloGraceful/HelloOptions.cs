namespace HelloGraceful;

/// <summary>Settings of the example, from the <c>HelloGraceful</c> configuration section.</summary>
public sealed class HelloOptions
{
    public const string SectionName = "HelloGraceful";

    /// <summary>Delays start-up to simulate a real app's warm-up. Default: 0.</summary>
    public int WarmupMilliseconds { get; set; }

    /// <summary>Delays shutdown to simulate a job that is slow to stop, ignoring the host's deadline. Default: 0.</summary>
    public int StopDelayMilliseconds { get; set; }

    /// <summary>If set, each instance of <see cref="PidRecorderService"/> appends its pid to this file.</summary>
    public string? BackgroundPidFile { get; set; }

    // Fault hooks for the fault-injection tests. Each one runs in the app's hosted services, so
    // only children are affected, never the master.

    /// <summary>Makes start-up fail with an exception before the app is ready. Default: false.</summary>
    public bool ThrowOnStartup { get; set; }

    /// <summary>If above 0, start-up ends with exit code 0 after this long, before the app is ready. Default: 0.</summary>
    public int ExitEarlyMilliseconds { get; set; }

    /// <summary>If above 0, the app crashes (unhandled exception) this long after it started serving. Default: 0.</summary>
    public int CrashAfterMilliseconds { get; set; }

    /// <summary>Once serving, the process ignores SIGTERM altogether (SIG_IGN). Default: false.</summary>
    public bool IgnoreSigterm { get; set; }
}

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
}

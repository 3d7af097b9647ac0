namespace GracefulHosting;

/// <summary>Which role <c>UseGracefulRestart()</c> gives the process.</summary>
public enum GracefulRestartMode
{
    /// <summary>Master on Linux (child when started by a master); disabled elsewhere and under a test host.</summary>
    Auto,

    /// <summary>Always run as master (Linux only).</summary>
    Master,

    /// <summary>Serve on sockets passed by systemd in this process, with no master.</summary>
    Direct,

    /// <summary>Run the app as if <c>UseGracefulRestart()</c> were absent.</summary>
    Disabled,
}

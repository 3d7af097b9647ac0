namespace GracefulHosting;

/// <summary>The role <c>AddGracefulRestart()</c> gave this process when the host was built.</summary>
public enum GracefulRestartRole
{
    /// <summary>
    /// The app runs as if the library were absent: on Windows or macOS, with <c>Enabled=false</c> or
    /// <c>Mode=Disabled</c>, under a test host, or when the app has no Kestrel server.
    /// </summary>
    Disabled,

    /// <summary>The supervisor: it owns the listening sockets and starts the app as children; it runs none of the app.</summary>
    Master,

    /// <summary>One generation of the app, serving on sockets inherited from a master.</summary>
    Child,

    /// <summary>The app, serving on sockets passed by systemd, with no master (<c>Mode=Direct</c>).</summary>
    Direct,
}

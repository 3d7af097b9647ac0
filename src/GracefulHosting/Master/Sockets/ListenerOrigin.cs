namespace GracefulHosting.Master.Sockets;

/// <summary>Who created a listening socket, which decides how it is closed.</summary>
internal enum ListenerOrigin
{
    /// <summary>The master bound it; closing it closes it (and removes a Unix socket's file if it is still the master's).</summary>
    Bound,

    /// <summary>systemd passed it and keeps its own copy; closed with close(2) only.</summary>
    Systemd,

    /// <summary>The app named an inherited descriptor with <c>ListenHandle</c>; closed with close(2) only.</summary>
    Handle,
}

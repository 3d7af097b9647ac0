namespace GracefulHosting.Master.Sockets;

// Decides how the socket is closed.
internal enum ListenerOrigin
{
    // Closed, and a Unix socket's file removed if it is still the master's.
    Bound,

    // systemd keeps its own copy: close(2) only.
    Systemd,

    // An inherited descriptor the app named with ListenHandle: close(2) only.
    Handle,
}

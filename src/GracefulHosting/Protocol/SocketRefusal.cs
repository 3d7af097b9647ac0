namespace GracefulHosting.Protocol;

// The child throws what a failed bind would.
internal enum SocketRefusal
{
    // Kestrel never skips an endpoint whose address is in use.
    InUse,

    // Permission, an address not on this machine, no systemd socket for it.
    Other,
}

namespace GracefulHosting.Protocol;

/// <summary>Why the master could not hand over a socket; the child throws what a failed bind would.</summary>
internal enum SocketRefusal
{
    /// <summary>The address is in use by another process: Kestrel never skips such an endpoint.</summary>
    InUse,

    /// <summary>Any other cause (permission, an address not on this machine, no systemd socket for it).</summary>
    Other,
}

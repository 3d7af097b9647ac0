namespace GracefulHosting.Systemd;

// Name: its FileDescriptorName=, if it has one.
internal sealed record ActivatedSocket(int Fd, string? Name);

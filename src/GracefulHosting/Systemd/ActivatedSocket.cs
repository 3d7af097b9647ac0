namespace GracefulHosting.Systemd;

/// <summary>One socket passed by systemd, and its <c>FileDescriptorName=</c> if it has one.</summary>
internal sealed record ActivatedSocket(int Fd, string? Name);

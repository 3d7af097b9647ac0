namespace GracefulHosting.Child.Warmup;

internal sealed record WarmupResult(IReadOnlyList<int> Statuses, TlsHandshake? Handshake, string Protocol);

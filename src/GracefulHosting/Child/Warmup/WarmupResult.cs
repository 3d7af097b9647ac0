namespace GracefulHosting.Child.Warmup;

/// <summary>What the warm-up of one endpoint saw: the response statuses, the protocol that carried them and, over HTTPS, the TLS handshake.</summary>
internal sealed record WarmupResult(IReadOnlyList<int> Statuses, TlsHandshake? Handshake, string Protocol);

namespace GracefulHosting.Child.Warmup;

/// <summary>One TLS handshake of a warm-up connection.</summary>
internal sealed record TlsHandshake(double ElapsedMs, string Protocol, string CertificateSubject);

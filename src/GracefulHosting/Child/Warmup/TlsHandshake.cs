namespace GracefulHosting.Child.Warmup;

internal sealed record TlsHandshake(double ElapsedMs, string Protocol, string CertificateSubject);

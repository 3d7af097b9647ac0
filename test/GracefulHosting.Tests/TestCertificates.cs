using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace GracefulHosting.Tests;

/// <summary>Certificates made in memory for Kestrel's HTTPS endpoints in tests.</summary>
internal static class TestCertificates
{
    /// <summary>A self-signed certificate for <c>CN=localhost</c>, valid from yesterday to tomorrow, with its private key.</summary>
    public static X509Certificate2 SelfSignedLocalhost()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}

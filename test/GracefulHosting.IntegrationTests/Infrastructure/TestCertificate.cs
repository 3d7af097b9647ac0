using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>Self-signed certificates for HTTPS endpoints in tests.</summary>
internal static class TestCertificate
{
    /// <summary>Writes a PFX for <c>CN=localhost</c> (with 127.0.0.1 and localhost as alternative names).</summary>
    public static void WriteSelfSigned(string path, string password)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace GracefulHosting.IntegrationTests.Infrastructure;

/// <summary>Certificates for HTTPS tests.</summary>
internal static class Certificates
{
    /// <summary>Writes a self-signed certificate for localhost and 127.0.0.1, with its key, as a PFX file.</summary>
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

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Voting.Local.Tls;

/// <summary>What the self-signed certificates this machine makes share: the request's extensions and the PEM files.</summary>
internal static class SelfSignedCertificate
{
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    /// <summary>A request for an end-entity certificate (no CA), signing only, for <paramref name="usages"/>.</summary>
    public static CertificateRequest Request(string subject, ECDsa key, params Oid[] usages)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([.. usages], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request;
    }

    /// <summary>Writes the certificate, and its key readable by its owner only (made so before the key is in it).</summary>
    public static void Write(string certificatePath, string certificatePem, string keyPath, string keyPem)
    {
        File.WriteAllText(keyPath + ".tmp", "");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.WriteAllText(keyPath + ".tmp", keyPem);
        File.Move(keyPath + ".tmp", keyPath, overwrite: true);
        File.WriteAllText(certificatePath, certificatePem);
    }
}

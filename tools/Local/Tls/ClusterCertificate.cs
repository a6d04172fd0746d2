using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Voting.Local.Tls;

/// <summary>
/// The certificate every member of one cluster presents for Orleans' mutual TLS (<c>Clustering:Tls</c>): self-signed,
/// usable as server and client, its PEM certificate and key in two files of a directory. <c>./voting up</c> keeps one
/// per system in its data directory; <c>./voting swarm up</c> puts one into the stack's secrets.
/// </summary>
/// <param name="CertificatePath">The PEM certificate (<c>Clustering:Tls:CertificatePath</c>).</param>
/// <param name="KeyPath">The PEM private key, readable by its owner only (<c>Clustering:Tls:KeyPath</c>).</param>
public sealed record ClusterCertificate(string CertificatePath, string KeyPath)
{
    /// <summary>How long a new one is valid: a cluster's certificate is replaced with the system, not renewed.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(365);

    /// <summary>The settings that make an application present this certificate and require it of its peers.</summary>
    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Clustering__Tls__CertificatePath"] = CertificatePath,
        ["Clustering__Tls__KeyPath"] = KeyPath,
    };

    /// <summary>The certificate kept in <paramref name="directory"/>, made there first if there is none (or it has expired).</summary>
    public static ClusterCertificate ReadOrCreate(string directory, string subject = "voting-cluster")
    {
        var certificate = new ClusterCertificate(Path.Combine(directory, "cluster.crt"), Path.Combine(directory, "cluster.key"));
        if (!certificate.IsUsable())
        {
            Directory.CreateDirectory(directory);
            var (pem, key) = Create(subject, DateTimeOffset.UtcNow);
            SelfSignedCertificate.Write(certificate.CertificatePath, pem, certificate.KeyPath, key);
        }

        return certificate;
    }

    /// <summary>A new self-signed cluster certificate as PEM: the certificate and its PKCS#8 private key.</summary>
    public static (string Certificate, string Key) Create(string subject, DateTimeOffset notBefore, TimeSpan? lifetime = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = SelfSignedCertificate.Request($"CN={subject}", key, SelfSignedCertificate.ServerAuthentication, SelfSignedCertificate.ClientAuthentication);
        // Backdated a little: members whose clocks lag behind the one that made it still accept it.
        using var certificate = request.CreateSelfSigned(notBefore.AddMinutes(-5), notBefore + (lifetime ?? Lifetime));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    private bool IsUsable()
    {
        if (!File.Exists(CertificatePath) || !File.Exists(KeyPath))
        {
            return false;
        }

        using var certificate = X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
        return certificate.NotAfter > DateTime.Now.AddDays(1);
    }
}

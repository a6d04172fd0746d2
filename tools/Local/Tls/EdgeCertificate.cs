using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Voting.Local.Tls;

/// <summary>
/// A self-signed certificate for the balancer's HTTPS (<c>./voting up --tls</c>, <c>./voting swarm up</c>, the
/// tests), written as the PEM files <c>Edge:Tls:CertificatePath</c> and <c>Edge:Tls:KeyPath</c> name: an ECDSA P-256
/// key, the names and addresses it serves as subject alternative names, for TLS servers only. Clients trust it by
/// that file alone (the load tool's <c>--ca</c>, <c>curl --cacert</c>), never by accepting any certificate.
/// </summary>
/// <param name="CertificatePath">The certificate, PEM.</param>
/// <param name="KeyPath">Its private key, PEM (PKCS#8), readable by its owner only.</param>
public sealed record EdgeCertificate(string CertificatePath, string KeyPath)
{
    /// <summary>The names a certificate for one machine serves.</summary>
    public static readonly IReadOnlyList<string> Loopback = ["localhost", "127.0.0.1"];

    /// <summary>Writes a new certificate for <paramref name="names"/> (host names or IP addresses), valid from now for <paramref name="validity"/>.</summary>
    public static EdgeCertificate Create(string directory, IReadOnlyList<string> names, TimeSpan validity, string fileName = "edge")
    {
        Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = SelfSignedCertificate.Request($"CN={names[0]}, O=Voting.Orleans", key, SelfSignedCertificate.ServerAuthentication);
        var alternativeNames = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                alternativeNames.AddIpAddress(address);
            }
            else
            {
                alternativeNames.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(alternativeNames.Build());

        // Valid from a minute ago: a clock a little behind on the other side still accepts it.
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-1), now.Add(validity));
        var written = new EdgeCertificate(Path.Combine(directory, fileName + ".crt"), Path.Combine(directory, fileName + ".key"));
        SelfSignedCertificate.Write(written.CertificatePath, certificate.ExportCertificatePem() + "\n", written.KeyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return written;
    }

    /// <summary>The certificate, to trust as the only root of an HTTPS client.</summary>
    public X509Certificate2 Load() => X509Certificate2.CreateFromPem(File.ReadAllText(CertificatePath));

    /// <summary>An HTTPS client policy that trusts this certificate alone (and still checks the host name).</summary>
    public X509ChainPolicy TrustPolicy()
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(Load());
        return policy;
    }

    /// <summary>The settings (<c>Edge:Tls</c>) that give the balancer or the results app HTTPS at <paramref name="httpsUrl"/> with this certificate.</summary>
    public IReadOnlyDictionary<string, string?> EdgeSettings(string httpsUrl) => new Dictionary<string, string?>
    {
        ["Edge__Tls__Urls"] = httpsUrl,
        ["Edge__Tls__CertificatePath"] = CertificatePath,
        ["Edge__Tls__KeyPath"] = KeyPath,
    };
}

using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using Voting.ServiceDefaults.Configuration;

namespace Voting.Clustering.Tls;

/// <summary>
/// Mutual TLS between the members of the cluster: each connection, silo to silo and client to gateway, is
/// encrypted, and each side must present a certificate that chains to the cluster's trust anchors — by default the
/// one self-signed certificate every member shares. A process that has not got it cannot join, call a grain, or
/// read a message: the silo and gateway ports answer nothing but a TLS handshake it cannot complete.
/// </summary>
/// <remarks>
/// Peers are addressed by IP (each silo advertises its address on the network), so the certificate's names are not
/// what is checked: its chain to an anchor the cluster chose is.
/// </remarks>
public sealed class ClusterTls
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly X509Certificate2Collection _anchors;

    private ClusterTls(X509Certificate2 certificate, X509Certificate2Collection anchors)
    {
        Certificate = certificate;
        _anchors = anchors;
    }

    /// <summary>What this process presents, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>
    /// Reads <c>Clustering:Tls</c> now: null when it is off; otherwise the certificate, checked as a peer would check
    /// it (readable, with its key, valid today, usable by a server and a client, chaining to the anchors), so that
    /// a member that could never connect fails at start-up with the setting named rather than in every handshake.
    /// </summary>
    public static ClusterTls? Read(ClusterTlsOptions options, List<string> failures, DateTimeOffset now)
    {
        const string Section = "Clustering:Tls";
        if (string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            if (!string.IsNullOrWhiteSpace(options.KeyPath) || !string.IsNullOrWhiteSpace(options.TrustedCertificatesPath))
            {
                failures.Add(SettingsValidation.Missing($"{Section}:CertificatePath", "Cluster TLS is configured in part: its key or trust anchors are set, its certificate is not."));
            }

            return null;
        }

        X509Certificate2 certificate;
        try
        {
            using var pem = string.IsNullOrWhiteSpace(options.KeyPath)
                ? X509Certificate2.CreateFromPemFile(options.CertificatePath)
                : X509Certificate2.CreateFromPemFile(options.CertificatePath, options.KeyPath);
            // A key read from PEM is ephemeral; TLS wants it the way a PKCS#12 import leaves it.
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            failures.Add(SettingsValidation.Invalid(
                string.IsNullOrWhiteSpace(options.KeyPath) ? $"{Section}:CertificatePath" : $"{Section}:CertificatePath / {Section}:KeyPath",
                $"cannot be read as a PEM certificate with its private key: {e.Message}"));
            return null;
        }

        var anchors = new X509Certificate2Collection();
        if (string.IsNullOrWhiteSpace(options.TrustedCertificatesPath))
        {
            anchors.Add(X509CertificateLoader.LoadCertificate(certificate.RawData));
        }
        else
        {
            try
            {
                anchors.ImportFromPemFile(options.TrustedCertificatesPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                failures.Add(SettingsValidation.Invalid($"{Section}:TrustedCertificatesPath", $"cannot be read as PEM certificates: {e.Message}"));
                return null;
            }

            if (anchors.Count == 0)
            {
                failures.Add(SettingsValidation.Invalid($"{Section}:TrustedCertificatesPath", "holds no certificate."));
                return null;
            }
        }

        var tls = new ClusterTls(certificate, anchors);
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            failures.Add(SettingsValidation.Invalid($"{Section}:CertificatePath",
                $"is valid from {certificate.NotBefore:u} to {certificate.NotAfter:u}, not now ({now:u})."));
        }
        else if (!AllowsBothEnds(certificate))
        {
            failures.Add(SettingsValidation.Invalid($"{Section}:CertificatePath",
                "must allow server and client authentication (extended key usages 1.3.6.1.5.5.7.3.1 and .2): every member is both."));
        }
        else if (!tls.Accepts(certificate))
        {
            failures.Add(SettingsValidation.Invalid($"{Section}:CertificatePath", string.IsNullOrWhiteSpace(options.TrustedCertificatesPath)
                ? "is not self-signed: set Clustering:Tls:TrustedCertificatesPath to the certificate authority that issued it."
                : "does not chain to a certificate of Clustering:Tls:TrustedCertificatesPath."));
        }

        return tls;
    }

    /// <summary>Whether a peer presenting <paramref name="remote"/> is a member of this cluster.</summary>
    public bool Accepts(X509Certificate2 remote)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_anchors);
        // A private cluster authority publishes no revocation list; a compromised certificate is replaced, with the
        // secret, on every member.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(remote);
    }

    /// <summary>Orleans' TLS settings for this member: present the certificate, require the peer's, check it here.</summary>
    public void Configure(TlsOptions options)
    {
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = Validate;
    }

    /// <summary>
    /// Orleans' check of a peer: the chain to the cluster's anchors decides; the name and the machine's own trust
    /// store (which holds neither the cluster's authority nor, rightly, any public one that would do) do not.
    /// </summary>
    private bool Validate(X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors) =>
        !errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) && Accepts(certificate);

    private static bool AllowsBothEnds(X509Certificate2 certificate)
    {
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SingleOrDefault();
        if (usages is null)
        {
            return true;
        }

        var oids = usages.EnhancedKeyUsages.Cast<Oid>().Select(oid => oid.Value).ToHashSet();
        return oids.Contains(ServerAuthentication.Value) && oids.Contains(ClientAuthentication.Value);
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Voting.Local.Tls;
using Voting.Testing;

namespace Voting.Clustering.Tests.Tls;

/// <summary>A member that could never complete a handshake fails at start-up, naming the setting.</summary>
public sealed class ClusterTlsSettingsTests
{
    private readonly string _directory = TestDirectories.Create("cluster-tls-settings");

    private static ClusteringOptions Read(params (string Key, string? Value)[] settings) =>
        ClusteringSettings.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void ClusterTlsIsOffUntilACertificateIsNamed() => Assert.Null(Read().ResolvedTls);

    [Fact]
    public void AGeneratedCertificateIsAccepted()
    {
        var certificate = ClusterCertificate.ReadOrCreate(_directory);
        var tls = Read(("Clustering:Tls:CertificatePath", certificate.CertificatePath), ("Clustering:Tls:KeyPath", certificate.KeyPath)).ResolvedTls;
        Assert.NotNull(tls);
        Assert.True(tls.Certificate.HasPrivateKey);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(certificate.KeyPath));
        }
    }

    [Fact]
    public void AKeyWithoutACertificateFailsNamingTheSetting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:Tls:KeyPath", "/run/secrets/cluster.key")));
        Assert.Contains("Clustering:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clustering__Tls__CertificatePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingFileFailsNamingTheSetting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:Tls:CertificatePath", Path.Combine(_directory, "none.crt"))));
        Assert.Contains("Clustering:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACertificateWithoutItsKeyFailsNamingTheSetting()
    {
        var certificate = ClusterCertificate.ReadOrCreate(_directory);
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:Tls:CertificatePath", certificate.CertificatePath)));
        Assert.Contains("Clustering:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExpiredCertificateFailsNamingTheSetting()
    {
        var (pem, key) = ClusterCertificate.Create("voting-cluster", DateTimeOffset.UtcNow.AddDays(-30), TimeSpan.FromDays(1));
        var error = Assert.Throws<OptionsValidationException>(() => ReadPem(pem, key));
        Assert.Contains("Clustering:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("is valid from", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACertificateOnlyForServersFailsNamingTheSetting()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=server-only", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var error = Assert.Throws<OptionsValidationException>(() => ReadPem(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem()));
        Assert.Contains("server and client authentication", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACertificateIssuedByAnAuthorityNeedsThatAuthorityAsTrustAnchor()
    {
        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var authorityRequest = new CertificateRequest("CN=voting-cluster-ca", authorityKey, HashAlgorithmName.SHA256);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var authority = authorityRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));

        using var memberKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var memberRequest = new CertificateRequest("CN=worker01", memberKey, HashAlgorithmName.SHA256);
        memberRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var member = memberRequest.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3, 4]);

        var error = Assert.Throws<OptionsValidationException>(() => ReadPem(member.ExportCertificatePem(), memberKey.ExportPkcs8PrivateKeyPem()));
        Assert.Contains("Clustering:Tls:TrustedCertificatesPath", error.Message, StringComparison.Ordinal);

        var anchors = Path.Combine(_directory, "ca.crt");
        File.WriteAllText(anchors, authority.ExportCertificatePem());
        var tls = ReadPem(member.ExportCertificatePem(), memberKey.ExportPkcs8PrivateKeyPem(), anchors).ResolvedTls;
        Assert.NotNull(tls);

        // A member of the same authority is accepted; the self-signed certificate of another cluster is not.
        Assert.True(tls.Accepts(X509CertificateLoader.LoadCertificate(member.RawData)));
        var (stranger, _) = ClusterCertificate.Create("voting-cluster", DateTimeOffset.UtcNow);
        Assert.False(tls.Accepts(X509Certificate2.CreateFromPem(stranger)));
    }

    private ClusteringOptions ReadPem(string certificate, string key, string? anchors = null)
    {
        var name = Guid.NewGuid().ToString("N");
        var certificatePath = Path.Combine(_directory, name + ".crt");
        var keyPath = Path.Combine(_directory, name + ".key");
        File.WriteAllText(certificatePath, certificate);
        File.WriteAllText(keyPath, key);
        return Read(("Clustering:Tls:CertificatePath", certificatePath), ("Clustering:Tls:KeyPath", keyPath), ("Clustering:Tls:TrustedCertificatesPath", anchors));
    }
}

namespace Voting.Clustering.Tls;

/// <summary>
/// Section <c>Clustering:Tls</c>: the certificate every silo and client of the cluster presents, for mutual TLS on
/// silo-to-silo and client-to-gateway connections. Off while <see cref="CertificatePath"/> is empty.
/// </summary>
public sealed class ClusterTlsOptions
{
    /// <summary>A PEM file with the certificate (and its private key, unless <see cref="KeyPath"/> names another file).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>A PEM file with the certificate's private key; empty when it is in <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// A PEM file with the certificates a peer's certificate must chain to (the cluster's own certificate
    /// authority). Empty: the cluster shares one self-signed certificate, and a peer must present that one.
    /// </summary>
    public string? TrustedCertificatesPath { get; set; }
}

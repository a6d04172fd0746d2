using System.Security.Cryptography.X509Certificates;

namespace Voting.LoadGen;

/// <summary>The tool's clients over HTTPS: the system's roots, or only the certificates given (<c>--ca</c>).</summary>
internal static class TlsTrust
{
    /// <summary>
    /// Makes <paramref name="handler"/> trust only <paramref name="trusted"/> when any are given (a self-signed edge
    /// certificate); the chain and the host name are still checked, against these roots instead of the system's.
    /// </summary>
    public static SocketsHttpHandler Trusting(this SocketsHttpHandler handler, IReadOnlyList<X509Certificate2> trusted)
    {
        if (trusted.Count > 0)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(trusted.ToArray());
            handler.SslOptions.CertificateChainPolicy = policy;
        }

        return handler;
    }
}

namespace Voting.Clustering.Tls;

public static class ClusterTlsExtensions
{
    /// <summary>
    /// Mutual TLS on this silo's silo and gateway ports and on its connections to other silos (Orleans'
    /// <c>Microsoft.Orleans.Connections.Security</c>), with the cluster's certificate.
    /// </summary>
    public static ISiloBuilder UseClusterTls(this ISiloBuilder silo, ClusterTls tls) => silo.UseTls(tls.Configure);

    /// <summary>Mutual TLS on this client's connections to the cluster's gateways, with the cluster's certificate.</summary>
    public static IClientBuilder UseClusterTls(this IClientBuilder client, ClusterTls tls) => client.UseTls(tls.Configure);
}

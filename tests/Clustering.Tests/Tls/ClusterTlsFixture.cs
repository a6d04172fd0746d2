using System.Net;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.TestingHost;
using Voting.Clustering.Tls;
using Voting.Local.Tls;
using Voting.Testing;

namespace Voting.Clustering.Tests.Tls;

/// <summary>
/// Two silos and a client of Orleans' TestCluster over real TCP sockets on loopback, each presenting the cluster's
/// certificate and requiring it of the other end: the second silo joins, and the client calls grains, only if mutual
/// TLS works between the members. <see cref="Stranger"/> is another self-signed certificate of the same shape.
/// </summary>
public sealed class ClusterTlsFixture : IAsyncLifetime
{
    private const string CertificateKey = "ClusterTls:Certificate";
    private const string KeyKey = "ClusterTls:Key";

    public ClusterCertificate Member { get; private set; } = null!;

    public ClusterCertificate Stranger { get; private set; } = null!;

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var directory = TestDirectories.Create("cluster-tls");
        Member = ClusterCertificate.ReadOrCreate(Path.Combine(directory, "member"));
        Stranger = ClusterCertificate.ReadOrCreate(Path.Combine(directory, "stranger"));

        var builder = new TestClusterBuilder(2);
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.Properties[CertificateKey] = Member.CertificatePath;
        builder.Properties[KeyKey] = Member.KeyPath;
        builder.AddSiloBuilderConfigurator<TlsSiloConfigurator>();
        builder.AddClientBuilderConfigurator<TlsClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Cluster.WaitUntilEverySiloIsActiveAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>The cluster TLS of a member whose settings name <paramref name="certificate"/>, read as an application reads it.</summary>
    public static ClusterTls Read(ClusterCertificate certificate)
    {
        var failures = new List<string>();
        var tls = ClusterTls.Read(new ClusterTlsOptions { CertificatePath = certificate.CertificatePath, KeyPath = certificate.KeyPath }, failures, DateTimeOffset.UtcNow);
        Assert.Empty(failures);
        return Assert.IsType<ClusterTls>(tls);
    }

    private static ClusterTls Read(IConfiguration configuration) =>
        Read(new ClusterCertificate(configuration[CertificateKey]!, configuration[KeyKey]!));

    private sealed class TlsSiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.Configure<EndpointOptions>(endpoints => endpoints.AdvertisedIPAddress = IPAddress.Loopback);
            siloBuilder.UseClusterTls(Read(siloBuilder.Configuration));
        }
    }

    private sealed class TlsClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseClusterTls(Read(configuration));
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterTlsCollection : ICollectionFixture<ClusterTlsFixture>
{
    public const string Name = "cluster with mutual TLS";
}

using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Voting.Clustering.AdoNet;
using Voting.Clustering.Consul;
using Voting.Clustering.Tls;
using Voting.ServiceDefaults.Health;

namespace Voting.Clustering;

public static class ClusterClientExtensions
{
    /// <summary>
    /// Connects this Orleans client to the voting cluster through the same <c>Clustering</c> settings the silos use.
    /// With <c>Localhost</c> clustering the client finds the primary silo's gateway at <c>Clustering:LocalhostGateway</c>;
    /// with <c>Clustering:Tls</c> it presents the cluster's certificate, which the gateways require.
    /// </summary>
    public static IClientBuilder UseVotingCluster(this IClientBuilder client, IConfiguration configuration)
    {
        var options = ClusteringSettings.Read(configuration, client: true);
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        switch (options.Provider)
        {
            case ClusteringProvider.Localhost:
                client.UseStaticClustering(IPEndPoint.Parse(options.LocalhostGateway));
                break;
            case ClusteringProvider.AdoNet:
                client.UsePostgresClustering(options.ConnectionString!);
                break;
            case ClusteringProvider.Consul:
                client.UseConsulClientClustering(consul => configuration.GetSection(ConsulClusteringOptions.SectionName).Bind(consul));
                break;
        }

        if (options.ResolvedTls is { } tls)
        {
            client.UseClusterTls(tls);
        }

        return client;
    }

    /// <summary>
    /// An Orleans client for a host that reads from the cluster but must serve without it: it connects in the
    /// background (<see cref="ClusterClientConnection"/>) and reports <c>Degraded</c> while it cannot.
    /// </summary>
    /// <param name="builder">The application.</param>
    /// <param name="readiness">
    /// Whether the application is ready only while connected; a load balancer, which routes by what it last heard
    /// from the cluster, is not.
    /// </param>
    public static IHostApplicationBuilder AddVotingClusterClient(this IHostApplicationBuilder builder, bool readiness = true)
    {
        ClusteringSettings.Read(builder.Configuration, client: true);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ClusterClientConnection>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ClusterClientConnection>());
        builder.Services.AddHealthChecks().AddCheck<ClusterClientConnection>("cluster", tags: readiness ? [HealthEndpoints.ReadyTag] : []);
        return builder;
    }
}

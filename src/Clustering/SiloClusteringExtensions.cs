using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Voting.Clustering.AdoNet;
using Voting.Clustering.Consul;
using Voting.Clustering.Tls;
using Voting.ServiceDefaults.Health;

namespace Voting.Clustering;

public static class SiloClusteringExtensions
{
    /// <summary>
    /// Joins this silo to the voting cluster as configured in section <c>Clustering</c>: identity, endpoints (on the
    /// advertised address only, loopback by default), the membership table, the reminder service (a ring over every
    /// silo, so every silo runs the same one), mutual TLS when <c>Clustering:Tls</c> is set, failure detection, and the readiness check. The dashboard's data
    /// collection is the silo host's own (<c>AddDashboard</c>), so that Orleans clients do not carry the dashboard.
    /// </summary>
    public static ISiloBuilder UseVotingCluster(this ISiloBuilder silo, IConfiguration configuration, SiloRole role)
    {
        var options = ClusteringSettings.Read(configuration);
        var advertised = options.ResolvedAdvertisedAddress;

        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        silo.Services.Configure<OrleansAdoNetSchemaOptions>(o => o.MigrationConnectionString = options.MigrationConnectionString);
        silo.ConfigureEndpoints(advertised, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
        // Role, host and port: in a swarm every silo listens on the same port, on a host of its own.
        silo.Configure<SiloOptions>(o => o.SiloName = $"{role.ToString().ToLowerInvariant()}-{Environment.MachineName}-{options.SiloPort}");

        switch (options.Provider)
        {
            case ClusteringProvider.Localhost:
                var primary = string.IsNullOrWhiteSpace(options.PrimarySiloEndpoint)
                    ? new IPEndPoint(advertised, options.SiloPort)
                    : IPEndPoint.Parse(options.PrimarySiloEndpoint);
                silo.UseDevelopmentClustering(primary);
                silo.UseInMemoryReminderService();
                break;
            case ClusteringProvider.AdoNet:
                silo.UsePostgresClustering(options.ConnectionString!);
                silo.UsePostgresReminderService(options.ConnectionString!);
                break;
            case ClusteringProvider.Consul:
                silo.UseConsulSiloClustering(consul => configuration.GetSection(ConsulClusteringOptions.SectionName).Bind(consul));
                silo.UsePostgresReminderService(options.ConnectionString!);
                break;
        }

        if (options.ResolvedTls is { } tls)
        {
            silo.UseClusterTls(tls);
        }

        silo.Configure<ClusterMembershipOptions>(membership =>
        {
            // Tuned for a prompt failover of drainers on a small cluster; see docs/RELIABILITY.md for the figures.
            membership.ProbeTimeout = TimeSpan.FromSeconds(2);
            membership.NumMissedProbesLimit = 3;
            membership.NumVotesForDeathDeclaration = 2;
            configuration.GetSection($"{ClusteringOptions.SectionName}:Membership").Bind(membership);
        });

        silo.Services.AddHealthChecks().AddCheck<SiloHealthCheck>("cluster", tags: [HealthEndpoints.ReadyTag], timeout: HealthEndpoints.CheckTimeout);
        return silo;
    }
}

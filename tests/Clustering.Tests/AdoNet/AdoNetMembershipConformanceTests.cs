using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;
using Voting.Clustering.Tests.Conformance;

namespace Voting.Clustering.Tests.AdoNet;

/// <summary>The shared membership-table conformance suite, run against Orleans' ADO.NET provider on a real PostgreSQL.</summary>
[Collection(AdoNetCollection.Name)]
public sealed class AdoNetMembershipConformanceTests(AdoNetFixture fixture) : MembershipTableConformance
{
    private readonly ServiceProvider _services = new ServiceCollection().BuildServiceProvider();

    protected override MembershipProviders CreateProviders(string clusterId)
    {
        var cluster = Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "conformance" });
        return new MembershipProviders(
            new AdoNetClusteringTable(
                _services,
                cluster,
                Options.Create(new AdoNetClusteringSiloOptions { Invariant = "Npgsql", ConnectionString = fixture.ConnectionString }),
                NullLogger<AdoNetClusteringTable>.Instance),
            new AdoNetGatewayListProvider(
                NullLogger<AdoNetGatewayListProvider>.Instance,
                _services,
                Options.Create(new AdoNetClusteringClientOptions { Invariant = "Npgsql", ConnectionString = fixture.ConnectionString }),
                Options.Create(new GatewayOptions()),
                cluster));
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Voting.Clustering.Consul;
using Voting.Testing;

namespace Voting.Clustering.Tests.Consul;

[Collection(ConsulClusterCollection.Name)]
public sealed class ConsulClusterTests(ConsulClusterFixture fixture) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(1));

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task TwoSilosFormAClusterWhoseMembershipIsInConsul()
    {
        var silos = fixture.Cluster.Silos.Select(s => s.SiloAddress).ToHashSet();
        Assert.Equal(2, silos.Count);
        using var table = new ConsulMembershipTable(
            Options.Create(new ConsulClusteringOptions { Address = fixture.Consul.Address, KvRoot = ConsulClusterFixture.KvRoot }),
            Options.Create(new ClusterOptions { ClusterId = fixture.Cluster.Options.ClusterId, ServiceId = fixture.Cluster.Options.ServiceId }),
            NullLoggerFactory.Instance);

        await Poll.UntilAsync(
            async () => ActiveIn(await table.ReadAllAsync(_timeout.Token)).SetEquals(silos),
            Patience,
            async () => $"Consul holds {await table.ReadAllAsync(_timeout.Token)}; the test cluster runs {string.Join(", ", silos)}");

        var management = fixture.Cluster.Client.GetGrain<IManagementGrain>(0);
        await Poll.UntilAsync(
            async () => (await management.GetHosts(onlyActive: true)).Keys.ToHashSet().SetEquals(silos),
            Patience,
            "the cluster does not see both silos as active");
        Assert.Contains(fixture.Consul.Store.Snapshot().Keys, key => key == $"{ConsulClusterFixture.KvRoot}{fixture.Cluster.Options.ClusterId}/version");
    }

    [Fact]
    public async Task TheClientFindsTheGatewaysThroughConsul()
    {
        var provider = fixture.Cluster.Client.ServiceProvider.GetRequiredService<IGatewayListProvider>();
        Assert.IsType<ConsulGatewayListProvider>(provider);

        var gateways = (await provider.GetGatewaysAsync(_timeout.Token)).Select(uri => uri.ToGatewayAddress()!.Endpoint).ToHashSet();

        Assert.Equal(fixture.Cluster.Silos.Select(s => s.GatewayAddress.Endpoint).ToHashSet(), gateways);
        Assert.Equal(2, (await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count);
    }

    private static HashSet<SiloAddress> ActiveIn(MembershipTableData table) =>
        table.Members.Where(m => m.Item1.Status == SiloStatus.Active).Select(m => m.Item1.SiloAddress).ToHashSet();
}

using System.Net;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.TestingHost;
using Voting.Clustering.Consul;
using Voting.Clustering.Consul.Testing;

namespace Voting.Clustering.Tests.Consul;

/// <summary>
/// Two silos on Orleans' classic TestCluster (the only test host that takes a custom membership table) whose membership
/// table is the Consul provider over the in-test Consul, and a client that finds its gateways there too: the test
/// cluster's own membership is switched off, so without the provider neither would work.
/// </summary>
public sealed class ConsulClusterFixture : IAsyncLifetime
{
    public const string KvRoot = "cluster-tests/";
    private const string AddressKey = "Consul:Address";

    public InTestConsul Consul { get; private set; } = null!;

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Consul = await InTestConsul.StartAsync();
        var builder = new TestClusterBuilder(2);
        builder.Options.UseTestClusterMembership = false;
        builder.Properties[AddressKey] = Consul.Address;
        builder.AddSiloBuilderConfigurator<ConsulSiloConfigurator>();
        builder.AddClientBuilderConfigurator<ConsulClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Cluster.WaitUntilEverySiloIsActiveAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Consul.DisposeAsync();
    }

    private static void UseInTestConsul(ConsulClusteringOptions options, IConfiguration configuration)
    {
        options.Address = configuration[AddressKey]!;
        options.KvRoot = KvRoot;
        options.RequestTimeout = TimeSpan.FromSeconds(5);
    }

    private sealed class ConsulSiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            // The test cluster advertises loopback already; said here too, since these silos must never leave it.
            siloBuilder.Configure<EndpointOptions>(endpoints => endpoints.AdvertisedIPAddress = IPAddress.Loopback);
            siloBuilder.UseConsulSiloClustering(options => UseInTestConsul(options, siloBuilder.Configuration));
        }
    }

    private sealed class ConsulClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseConsulClientClustering(options => UseInTestConsul(options, configuration));
    }
}

[CollectionDefinition(Name)]
public sealed class ConsulClusterCollection : ICollectionFixture<ConsulClusterFixture>
{
    public const string Name = "cluster on the in-test Consul";
}

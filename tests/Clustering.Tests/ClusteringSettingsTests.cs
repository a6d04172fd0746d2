using System.Net;
using System.Net.NetworkInformation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Voting.Clustering.Tests;

public sealed class ClusteringSettingsTests
{
    private static readonly string[] DocumentationNetworks = ["203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24"];

    private static ClusteringOptions Read(params (string Key, string Value)[] settings) =>
        ClusteringSettings.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void AnUnknownProviderFailsNamingTheSetting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:Provider", "Zookeeper")));
        Assert.Contains("Clustering", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadAdvertisedAddressFailsNamingTheSetting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:AdvertisedAddress", "not a host!")));
        Assert.Contains("Clustering:AdvertisedAddress", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clustering__AdvertisedAddress", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAdvertisedHostNameIsResolvedAtStartUp()
    {
        // In a Swarm task the container's host name resolves to its address on the stack's network; here, localhost.
        Assert.True(IPAddress.IsLoopback(Read(("Clustering:AdvertisedAddress", "localhost")).ResolvedAdvertisedAddress));
        Assert.Equal(IPAddress.Parse("10.0.0.7"), Read(("Clustering:AdvertisedAddress", "10.0.0.7")).ResolvedAdvertisedAddress);
    }

    [Fact]
    public void AnAdvertisedNetworkMeansThisMachinesAddressInIt()
    {
        // In a Swarm task: the stack's overlay network. Here, the loopback network.
        Assert.Equal(IPAddress.Loopback, Read(("Clustering:AdvertisedAddress", "127.0.0.0/8")).ResolvedAdvertisedAddress);

        // A documentation network this machine has no address in (build machines have been seen on 192.0.2.0/24).
        var local = NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address).ToArray();
        var elsewhere = DocumentationNetworks.First(n => !local.Any(IPNetwork.Parse(n).Contains));
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:AdvertisedAddress", elsewhere)));
        Assert.Contains("Clustering:AdvertisedAddress", error.Message, StringComparison.Ordinal);
        Assert.Contains("no address of this machine is in it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAdvertisedHostNameThatDoesNotResolveFailsNamingTheSetting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:AdvertisedAddress", "no-such-silo.invalid")));
        Assert.Contains("Clustering:AdvertisedAddress", error.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-silo.invalid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AConsulClientNeedsNoPostgresAndAdvertisesNothing()
    {
        // The load balancer in deploy/swarm: the shared cluster settings, no connection string.
        var options = ClusteringSettings.Read(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Clustering:Provider"] = "Consul",
                ["Clustering:Consul:Address"] = "http://127.0.0.1:8500",
                ["Clustering:AdvertisedAddress"] = "not a host!",
            }).Build(),
            client: true);

        Assert.Equal(ClusteringProvider.Consul, options.Provider);
        Assert.Throws<OptionsValidationException>(() => Read(("Clustering:Provider", "AdoNet")));
    }

    [Fact]
    public void DefaultsAdvertiseLoopback()
    {
        Assert.Equal("127.0.0.1", Read().AdvertisedAddress);
    }

    [Fact]
    public void AdoNetWithoutAConnectionStringFailsNamingTheSetting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:Provider", "AdoNet")));
        Assert.Contains("Clustering:ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AdoNetUsesTheVotesDatabaseWhenNoOtherIsNamed()
    {
        var options = Read(("Clustering:Provider", "AdoNet"), ("Postgres:ConnectionString", "Host=127.0.0.1;Database=voting"));
        Assert.Contains("Database=voting", options.ConnectionString, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void OrleansGetsASmallPoolUnlessTheConnectionStringSaysOtherwise()
    {
        var defaulted = Read(("Clustering:Provider", "AdoNet"), ("Clustering:ConnectionString", "Host=127.0.0.1;Database=orleans"));
        Assert.Contains("Maximum Pool Size=8", defaulted.ConnectionString, StringComparison.OrdinalIgnoreCase);
        var explicitPool = Read(("Clustering:Provider", "AdoNet"), ("Clustering:ConnectionString", "Host=127.0.0.1;Database=orleans;Max Pool Size=50"));
        Assert.Contains("Max Pool Size=50", explicitPool.ConnectionString, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Maximum Pool Size", explicitPool.ConnectionString, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Database=orleans", GssEncryptionMode.Disable)]
    [InlineData("Host=127.0.0.1;Database=orleans;GSS Encryption Mode=Prefer", GssEncryptionMode.Prefer)]
    [InlineData("Host=127.0.0.1;Database=orleans;gssencryptionmode=Require", GssEncryptionMode.Require)]
    public void OrleansConnectsWithoutGssEncryptionUnlessTheConnectionStringAsksForIt(string connectionString, GssEncryptionMode expected)
    {
        var options = Read(("Clustering:Provider", "AdoNet"), ("Clustering:ConnectionString", connectionString));
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(options.ConnectionString).GssEncryptionMode);
    }

    [Fact]
    public void ConsulWithoutAnAddressFailsNamingTheSetting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:Provider", "Consul"), ("Postgres:ConnectionString", "Host=127.0.0.1")));
        Assert.Contains("Clustering:Consul:Address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConsulStillNeedsPostgresForRemindersAndState()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:Provider", "Consul"), ("Clustering:Consul:Address", "http://127.0.0.1:8500")));
        Assert.Contains("Clustering:ConnectionString", error.Message, StringComparison.Ordinal);
    }
}

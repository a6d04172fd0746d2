using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Clustering;

namespace Voting.Clustering.Tests;

public sealed class ClusteringSettingsTests
{
    private static ClusteringOptions Read(params (string Key, string Value)[] settings) =>
        ClusteringHostingExtensions.ReadOptions(new ConfigurationBuilder()
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
        var error = Assert.Throws<OptionsValidationException>(() => Read(("Clustering:AdvertisedAddress", "localhost-ish")));
        Assert.Contains("Clustering:AdvertisedAddress", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clustering__AdvertisedAddress", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultsAdvertiseLoopback()
    {
        Assert.Equal("127.0.0.1", Read().AdvertisedAddress);
    }
}

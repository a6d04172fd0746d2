using System.Net;
using Voting.ServiceDefaults.Edge;
using Voting.Web.Abuse;

namespace Voting.Web.Tests;

/// <summary>How the per-client limits' settings become the library's token buckets, and whom they trust to name the client.</summary>
public sealed class ClientLimitsTests
{
    [Fact]
    public void ABucketIsRefilledSmoothlyOverItsPeriod()
    {
        // 300 a minute: one permit every 200 ms.
        var slow = new TokenBucketSettings { Permits = 300, Refill = 300, Period = TimeSpan.FromMinutes(1) }.ToLimiterOptions();
        Assert.Equal((300, 1, TimeSpan.FromMilliseconds(200)), (slow.TokenLimit, slow.TokensPerPeriod, slow.ReplenishmentPeriod));
        Assert.Equal(0, slow.QueueLimit);

        // 6,000 a minute, more than one per 100 ms: as many as are due every 100 ms.
        var fast = new TokenBucketSettings { Permits = 10, Refill = 6000, Period = TimeSpan.FromMinutes(1) }.ToLimiterOptions();
        Assert.Equal((10, TimeSpan.FromMilliseconds(100)), (fast.TokensPerPeriod, fast.ReplenishmentPeriod));
    }

    [Fact]
    public void TheDefaultsLetACrowdBehindOneAddressThrough()
    {
        var defaults = new ClientLimitsOptions();
        Assert.True(defaults.Identities.Permits >= 100, "a carrier-grade NAT or a stadium's Wi-Fi puts hundreds of voters behind one address");
        Assert.True(defaults.AddressVotes.Permits >= defaults.Identities.Permits);
        Assert.True(defaults.VoterVotes.Permits >= 4, "a voter may change their vote a few times, or click twice");
    }

    [Fact]
    public void TrustedProxiesDefaultToLoopbackAndAreNeverEmpty()
    {
        var edge = new EdgeOptions();
        var networks = edge.ParseTrustedProxies();
        Assert.NotNull(networks);
        Assert.Contains(networks, n => n.Contains(IPAddress.Loopback));
        Assert.Contains(networks, n => n.Contains(IPAddress.IPv6Loopback));
        Assert.DoesNotContain(networks, n => n.Contains(IPAddress.Parse("10.0.9.3")));

        var configured = new EdgeOptions { TrustedProxies = ["10.0.9.0/24"] }.ParseTrustedProxies();
        Assert.NotNull(configured);
        Assert.False(configured.Single().Contains(IPAddress.Loopback));
        Assert.Null(new EdgeOptions { TrustedProxies = ["10.0.9.1/24"] }.ParseTrustedProxies());
        Assert.Null(new EdgeOptions { TrustedProxies = ["everyone"] }.ParseTrustedProxies());
    }
}

using System.Net;
using Voting.ServiceDefaults.Edge;

namespace Voting.Web.Tests;

/// <summary>
/// What the per-client limits of the front ends and of the results app key on (<see cref="ClientAddress"/>): an IPv4
/// address as it is, an IPv6 address by its /64.
/// </summary>
public sealed class ClientAddressTests
{
    private static UInt128 Key(string address) => ClientAddress.Key(IPAddress.Parse(address));

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff")]
    [InlineData("198.51.100.7", "::ffff:198.51.100.7")]
    [InlineData("fe80::1", "fe80::2")]
    public void AddressesOfOneClientShareAKey(string one, string other) => Assert.Equal(Key(one), Key(other));

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1")]
    [InlineData("198.51.100.7", "198.51.100.8")]
    // An IPv4 address is never the key of the IPv6 /64 it could be mistaken for.
    [InlineData("0.0.0.1", "::1")]
    [InlineData("198.51.100.7", "::c633:6407")]
    public void AddressesOfTwoClientsHaveTwoKeys(string one, string other) => Assert.NotEqual(Key(one), Key(other));
}

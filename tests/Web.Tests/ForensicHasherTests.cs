using System.Net;
using Microsoft.Extensions.Options;
using Voting.Web.Voting;

namespace Voting.Web.Tests;

public sealed class ForensicHasherTests
{
    private static readonly DateTime Monday = new(2026, 2, 9, 10, 0, 0, DateTimeKind.Utc);

    private static ForensicHasher Hasher(byte signingFill = 7, byte? secretFill = null) => new(
        Options.Create(new ForensicsOptions { Secret = secretFill is { } fill ? Convert.ToBase64String(Enumerable.Repeat(fill, 32).ToArray()) : "" }),
        Options.Create(new VoterCookieOptions { SigningKey = Convert.ToBase64String(Enumerable.Repeat(signingFill, 32).ToArray()) }));

    private static long? Hash(ForensicHasher hasher, string address, DateTime? at = null) => hasher.AddressHash(at ?? Monday, IPAddress.Parse(address));

    [Fact]
    public void TheSameIPv4AddressHashesAlikeWithinADayAndOnEveryFrontEnd()
    {
        var hash = Hash(Hasher(), "203.0.113.7");
        Assert.NotNull(hash);
        Assert.Equal(hash, Hash(Hasher(), "203.0.113.7", Monday.AddHours(13).AddMinutes(59)));
        Assert.NotEqual(hash, Hash(Hasher(), "203.0.113.8"));
    }

    [Fact]
    public void TheSaltRotatesEveryUtcDay()
    {
        var hasher = Hasher();
        var monday = Hash(hasher, "203.0.113.7");
        var tuesday = Hash(hasher, "203.0.113.7", Monday.Date.AddDays(1));
        Assert.NotEqual(monday, tuesday);
        // Back to Monday (a vote's day is its own timestamp's): Monday's salt again.
        Assert.Equal(monday, Hash(hasher, "203.0.113.7", Monday.Date.AddTicks(1)));
    }

    [Fact]
    public void AddressesInOneIPv6SlashSixtyFourHashAlikeAndOtherSlashSixtyFoursDoNot()
    {
        var hasher = Hasher();
        var hash = Hash(hasher, "2001:db8:1:2::1");
        Assert.Equal(hash, Hash(hasher, "2001:db8:1:2:ffff:ffff:ffff:ffff"));
        Assert.Equal(hash, Hash(hasher, "2001:db8:1:2:abcd::9"));
        Assert.NotEqual(hash, Hash(hasher, "2001:db8:1:3::1"));
        Assert.NotEqual(hash, Hash(hasher, "2001:db8:2:2::1"));
    }

    [Fact]
    public void AnIPv4MappedIPv6AddressHashesAsItsIPv4Address()
    {
        var hasher = Hasher();
        Assert.Equal(Hash(hasher, "198.51.100.20"), Hash(hasher, "::ffff:198.51.100.20"));
        Assert.NotEqual(Hash(hasher, "198.51.100.20"), Hash(hasher, "::ffff:198.51.100.21"));
    }

    [Fact]
    public void AnIPv4AddressAndAnIPv6PrefixWithTheSameLeadingBytesDiffer()
    {
        // 203.0.113.7 is cb00:7107 as leading IPv6 bytes: the family is part of what is hashed.
        var hasher = Hasher();
        Assert.NotEqual(Hash(hasher, "203.0.113.7"), Hash(hasher, "cb00:7107::"));
    }

    [Fact]
    public void TheHashesDependOnTheSecret()
    {
        Assert.NotEqual(Hash(Hasher(signingFill: 7), "203.0.113.7"), Hash(Hasher(signingFill: 8), "203.0.113.7"));
        // With a secret of its own, the cookie key no longer matters (it can rotate without changing the hashes).
        Assert.Equal(Hash(Hasher(signingFill: 7, secretFill: 1), "203.0.113.7"), Hash(Hasher(signingFill: 8, secretFill: 1), "203.0.113.7"));
        Assert.NotEqual(Hash(Hasher(signingFill: 7, secretFill: 1), "203.0.113.7"), Hash(Hasher(signingFill: 7, secretFill: 2), "203.0.113.7"));
    }

    [Fact]
    public void TheUserAgentHashIsStableAndTellsUserAgentsApart()
    {
        var hasher = Hasher();
        const string firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0";
        Assert.Equal(hasher.UserAgentHash(firefox), Hasher().UserAgentHash(firefox));
        Assert.NotEqual(hasher.UserAgentHash(firefox), hasher.UserAgentHash(firefox + " "));
        Assert.Null(hasher.UserAgentHash(null));
        Assert.Null(hasher.UserAgentHash(""));
        var long1 = new string('x', 5000);
        Assert.Equal(hasher.UserAgentHash(long1), hasher.UserAgentHash(new string('x', 5000)));
        Assert.NotEqual(hasher.UserAgentHash(long1), hasher.UserAgentHash(long1 + "é"));
    }

    [Fact]
    public void AVoteWithoutAClientAddressHasNoAddressHash()
    {
        var forensics = Hasher().Of(Monday, client: null, userAgent: "curl/8.0", identityIssuedAt: Monday.AddMinutes(-1));
        Assert.Null(forensics.AddressHash);
        Assert.NotNull(forensics.UserAgentHash);
        Assert.Equal(Monday.AddMinutes(-1), forensics.IdentityIssuedAt);
    }
}

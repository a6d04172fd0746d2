using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Voting.Web.Voting;

namespace Voting.Web.Tests;

public sealed class VoterCookiesTests
{
    private static readonly DateTime IssuedAt = new(2026, 2, 8, 22, 30, 15, DateTimeKind.Utc);

    private sealed class FixedClock(DateTime now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(now, TimeSpan.Zero);
    }

    private static string Key(byte fill) => Convert.ToBase64String(Enumerable.Repeat(fill, 32).ToArray());

    private static VoterCookies Cookies(byte fill = 7, params byte[] verifying) =>
        new(Options.Create(new VoterCookieOptions { SigningKey = Key(fill), VerifyingKeys = [.. verifying.Select(Key)] }), new FixedClock(IssuedAt));

    /// <summary>A cookie as front ends signed them before key ids: <c>{voter}[.{vote}].{mac}</c>.</summary>
    private static string LegacyCookie(byte fill, Guid voter, Guid latestVote = default)
    {
        var signed = latestVote == Guid.Empty ? voter.ToString("N") : voter.ToString("N") + "." + latestVote.ToString("N");
        var mac = HMACSHA256.HashData(Enumerable.Repeat(fill, 32).ToArray(), Encoding.ASCII.GetBytes(signed));
        return signed + "." + Base64Url.EncodeToString(mac.AsSpan(0, 16));
    }

    private static string SetCookieValue(HttpResponse response)
    {
        var header = response.Headers.SetCookie.ToString();
        return header["voter_id=".Length..header.IndexOf(';', StringComparison.Ordinal)];
    }

    private static HttpRequest RequestWith(string? cookie)
    {
        var context = new DefaultHttpContext();
        if (cookie is not null)
        {
            context.Request.Headers.Cookie = "voter_id=" + cookie;
        }

        return context.Request;
    }

    [Fact]
    public void AnIssuedCookieIsReadBackAsTheSameVoter()
    {
        var cookies = Cookies();
        var context = new DefaultHttpContext();
        var voter = cookies.Issue(context.Response);
        var header = context.Response.Headers.SetCookie.ToString();
        var value = header["voter_id=".Length..header.IndexOf(';', StringComparison.Ordinal)];

        Assert.Equal(VoterCookieState.Valid, cookies.Read(RequestWith(value), out var read));
        Assert.Equal(voter, read.VoterId);
        Assert.Equal(IssuedAt, read.IssuedAt);
        Assert.True(read.SignedWithCurrentKey);
        Assert.StartsWith(voter.ToString("N") + "." + cookies.CurrentKeyId + ".", value, StringComparison.Ordinal);
        Assert.Contains("httponly", header, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", header, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void IssuedVoterIdsAreRandomAndDistinct()
    {
        var cookies = Cookies();
        var ids = Enumerable.Range(0, 1000).Select(_ => cookies.Issue(new DefaultHttpContext().Response)).ToHashSet();
        Assert.Equal(1000, ids.Count);
    }

    [Fact]
    public void AVoterIdUnderAnotherVotersSignatureIsInvalid()
    {
        var cookies = Cookies();
        var genuine = cookies.Sign(Guid.NewGuid());
        var forged = cookies.Sign(Guid.NewGuid())[..32] + genuine[32..];
        Assert.Equal(VoterCookieState.Invalid, cookies.Read(RequestWith(forged), out _));
    }

    [Fact]
    public void ACookieSignedWithAnotherKeyIsInvalid()
    {
        var value = Cookies(fill: 1).Sign(Guid.NewGuid());
        Assert.Equal(VoterCookieState.Invalid, Cookies(fill: 2).Read(RequestWith(value), out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef.")]
    [InlineData("0123456789abcdef0123456789abcdef.!!!!!!!!!!!!!!!!!!!!!!")]
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz.AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("0123456789abcdef0123456789abcdef.0000000g.1770589815.AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("0123456789abcdef0123456789abcdef-00000000.1770589815.AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("0123456789abcdef0123456789abcdef.00000000.177058981x.AAAAAAAAAAAAAAAAAAAAAA")]
    public void MalformedCookiesAreInvalidOrMissing(string value)
    {
        Assert.NotEqual(VoterCookieState.Valid, Cookies().Read(RequestWith(value), out _));
    }

    [Fact]
    public void NoCookieIsMissing()
    {
        Assert.Equal(VoterCookieState.Missing, Cookies().Read(RequestWith(null), out _));
    }

    [Fact]
    public void ACookieNamingTheVotersLatestVoteIsReadBackWithItAndItsIssueTime()
    {
        var cookies = Cookies();
        var (voter, vote) = (new VoterCookie(Guid.NewGuid(), Guid.Empty, IssuedAt.AddDays(-3), true), Guid.CreateVersion7());
        var context = new DefaultHttpContext();
        cookies.Remember(context.Response, voter, vote);

        Assert.Equal(VoterCookieState.Valid, cookies.Read(RequestWith(SetCookieValue(context.Response)), out var read));
        Assert.Equal(voter with { LatestVote = vote }, read);
        Assert.Equal(VoterCookieState.Valid, cookies.Read(RequestWith(cookies.Sign(voter.VoterId)), out var none));
        Assert.Equal(Guid.Empty, none.LatestVote);
    }

    [Fact]
    public void AnAlteredOrTransplantedLatestVoteOrIssueTimeIsInvalid()
    {
        var cookies = Cookies();
        var voter = Guid.NewGuid();
        var genuine = cookies.Sign(voter, Guid.CreateVersion7(), IssuedAt);
        var altered = genuine[..60] + (genuine[60] == '0' ? '1' : '0') + genuine[61..];
        var transplanted = genuine[..53] + cookies.Sign(Guid.NewGuid(), Guid.CreateVersion7(), IssuedAt)[53..];
        var dropped = genuine[..52] + genuine[85..];
        var backdated = genuine[..42] + (genuine[42] == '0' ? '1' : '0') + genuine[43..];
        Assert.Equal(VoterCookieState.Invalid, cookies.Read(RequestWith(altered), out _));
        Assert.Equal(VoterCookieState.Invalid, cookies.Read(RequestWith(transplanted), out _));
        Assert.Equal(VoterCookieState.Invalid, cookies.Read(RequestWith(dropped), out _));
        Assert.Equal(VoterCookieState.Invalid, cookies.Read(RequestWith(backdated), out _));
    }

    [Fact]
    public void ACookieSignedWithAVerifyingKeyKeepsItsVoterAndIsSignedAgainWithTheCurrentKey()
    {
        var before = Cookies(fill: 1);
        var (voterId, vote) = (Guid.NewGuid(), Guid.CreateVersion7());
        var old = before.Sign(voterId, vote, IssuedAt.AddHours(-5));
        var rotated = Cookies(fill: 2, verifying: 1);

        Assert.Equal(VoterCookieState.Valid, rotated.Read(RequestWith(old), out var voter));
        Assert.Equal(new VoterCookie(voterId, vote, IssuedAt.AddHours(-5), SignedWithCurrentKey: false), voter);

        var context = new DefaultHttpContext();
        Assert.True(rotated.RenewIfStale(context.Response, voter));
        var renewed = SetCookieValue(context.Response);
        Assert.StartsWith(voterId.ToString("N") + "." + rotated.CurrentKeyId + ".", renewed, StringComparison.Ordinal);
        Assert.Equal(VoterCookieState.Valid, rotated.Read(RequestWith(renewed), out var again));
        Assert.Equal(voter with { SignedWithCurrentKey = true }, again);
        // Renewed under the current key, the cookie no longer needs the old one.
        Assert.Equal(VoterCookieState.Valid, Cookies(fill: 2).Read(RequestWith(renewed), out _));
        Assert.False(rotated.RenewIfStale(new DefaultHttpContext().Response, again));
    }

    [Fact]
    public void ACookieWhoseKeyIsNoLongerListedIsInvalid()
    {
        var old = Cookies(fill: 1).Sign(Guid.NewGuid());
        Assert.Equal(VoterCookieState.Invalid, Cookies(fill: 3, verifying: 2).Read(RequestWith(old), out _));
    }

    [Fact]
    public void ACookieNamingAListedKeyIdButSignedWithAnotherKeyIsInvalid()
    {
        // The key id only chooses the key; the MAC must still be that key's.
        var forged = Cookies(fill: 9).Sign(Guid.NewGuid());
        var current = Cookies(fill: 7);
        Assert.Equal(VoterCookieState.Invalid, current.Read(RequestWith(forged[..33] + current.CurrentKeyId + forged[41..]), out _));
    }

    [Fact]
    public void ACookieFromBeforeKeyIdsIsAcceptedWhenAListedKeySignedItWithNoIssueTime()
    {
        var (voterId, vote) = (Guid.NewGuid(), Guid.CreateVersion7());
        var underCurrent = LegacyCookie(7, voterId, vote);
        var underOlder = LegacyCookie(1, voterId);

        Assert.Equal(VoterCookieState.Valid, Cookies(fill: 7).Read(RequestWith(underCurrent), out var current));
        Assert.Equal(new VoterCookie(voterId, vote, null, SignedWithCurrentKey: false), current);
        Assert.Equal(VoterCookieState.Valid, Cookies(fill: 7, verifying: 1).Read(RequestWith(underOlder), out var older));
        Assert.Equal(new VoterCookie(voterId, Guid.Empty, null, SignedWithCurrentKey: false), older);
        Assert.Equal(VoterCookieState.Invalid, Cookies(fill: 7).Read(RequestWith(underOlder), out _));

        // Reissued in the current format, the issue time stays unknown.
        var context = new DefaultHttpContext();
        Assert.True(Cookies(fill: 7).RenewIfStale(context.Response, current));
        Assert.Equal(VoterCookieState.Valid, Cookies(fill: 7).Read(RequestWith(SetCookieValue(context.Response)), out var reissued));
        Assert.Equal(current with { SignedWithCurrentKey = true }, reissued);
    }

    [Fact]
    public void AKeyIdIsTheFirstFourBytesOfTheKeysSha256InHex()
    {
        var key = Enumerable.Repeat((byte)7, 32).ToArray();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(key))[..8], VoterCookieOptions.KeyIdOf(key));
        Assert.Equal(VoterCookieOptions.KeyIdOf(key), Cookies(fill: 7).CurrentKeyId);
    }

    [Fact]
    public void OverHttpsTheCookieIsHostPrefixedAndSecure()
    {
        var cookies = Cookies();
        var context = new DefaultHttpContext();
        context.Request.Scheme = "https";
        var voter = cookies.Issue(context.Response);

        var header = context.Response.Headers.SetCookie.ToString();
        Assert.StartsWith("__Host-voter_id=" + voter.ToString("N"), header, StringComparison.Ordinal);
        Assert.Contains("secure", header, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", header, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain=", header, StringComparison.OrdinalIgnoreCase);

        var plain = new DefaultHttpContext();
        cookies.Issue(plain.Response);
        Assert.StartsWith("voter_id=", plain.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("secure", plain.Response.Headers.SetCookie.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AVoterWhoseCookieHasThePlainNameOverHttpsKeepsTheirIdUnderTheHostPrefixedName()
    {
        var cookies = Cookies();
        var voterId = Guid.NewGuid();
        var context = new DefaultHttpContext();
        context.Request.Scheme = "https";
        context.Request.Headers.Cookie = "voter_id=" + cookies.Sign(voterId);

        Assert.Equal(VoterCookieState.Valid, cookies.Read(context.Request, out var voter));
        Assert.Equal(voterId, voter.VoterId);
        // Signed with the current key, but under the old name: renewed all the same, and the old cookie removed.
        Assert.True(cookies.RenewIfStale(context.Response, voter));
        var headers = context.Response.Headers.SetCookie.ToArray();
        Assert.Contains(headers, h => h!.StartsWith("__Host-voter_id=" + voterId.ToString("N"), StringComparison.Ordinal));
        var removal = Assert.Single(headers, h => h!.StartsWith("voter_id=;", StringComparison.Ordinal))!;
        Assert.Contains("expires=Thu, 01 Jan 1970", removal, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", removal, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("max-age", removal, StringComparison.OrdinalIgnoreCase);

        // Under the new name, over HTTPS, nothing is renewed; the prefixed cookie wins over a plain one beside it.
        var again = new DefaultHttpContext();
        again.Request.Scheme = "https";
        var other = Guid.NewGuid();
        again.Request.Headers.Cookie = $"voter_id={cookies.Sign(other)}; __Host-voter_id={cookies.Sign(voterId)}";
        Assert.Equal(VoterCookieState.Valid, cookies.Read(again.Request, out var current));
        Assert.Equal(voterId, current.VoterId);
        Assert.False(cookies.RenewIfStale(again.Response, current));
    }
}

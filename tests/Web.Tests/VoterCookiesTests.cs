using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Voting.Web.Voting;

namespace Voting.Web.Tests;

public sealed class VoterCookiesTests
{
    private static VoterCookies Cookies(byte fill = 7) =>
        new(Options.Create(new VoterCookieOptions { SigningKey = Convert.ToBase64String(Enumerable.Repeat(fill, 32).ToArray()) }));

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
        Assert.Equal(voter, read);
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
    public void ACookieNamingTheVotersLatestVoteIsReadBackWithIt()
    {
        var cookies = Cookies();
        var (voter, vote) = (Guid.NewGuid(), Guid.CreateVersion7());
        var context = new DefaultHttpContext();
        cookies.Remember(context.Response, voter, vote);
        var header = context.Response.Headers.SetCookie.ToString();
        var value = header["voter_id=".Length..header.IndexOf(';', StringComparison.Ordinal)];

        Assert.Equal(VoterCookieState.Valid, cookies.Read(RequestWith(value), out var readVoter, out var readVote));
        Assert.Equal((voter, vote), (readVoter, readVote));
        Assert.Equal(VoterCookieState.Valid, cookies.Read(RequestWith(cookies.Sign(voter)), out _, out var none));
        Assert.Equal(Guid.Empty, none);
    }

    [Fact]
    public void AnAlteredOrTransplantedLatestVoteIsInvalid()
    {
        var cookies = Cookies();
        var voter = Guid.NewGuid();
        var genuine = cookies.Sign(voter, Guid.CreateVersion7());
        var altered = genuine[..40] + (genuine[40] == '0' ? '1' : '0') + genuine[41..];
        var transplanted = genuine[..33] + cookies.Sign(Guid.NewGuid(), Guid.CreateVersion7())[33..];
        var dropped = genuine[..32] + genuine[65..];
        Assert.Equal(VoterCookieState.Invalid, cookies.Read(RequestWith(altered), out _));
        Assert.Equal(VoterCookieState.Invalid, cookies.Read(RequestWith(transplanted), out _));
        Assert.Equal(VoterCookieState.Invalid, cookies.Read(RequestWith(dropped), out _));
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Voting.Web.Abuse;
using Voting.Web.Voting;

namespace Voting.Web.Tests;

public sealed class ProofOfWorkTests
{
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private readonly Clock _clock = new(new DateTimeOffset(2026, 2, 8, 22, 30, 0, TimeSpan.Zero));

    private ProofOfWork Create(int difficulty = 8, byte key = 7) => new(
        Options.Create(new IdentityChallengeOptions { Mode = IdentityChallengeMode.ProofOfWork, Difficulty = difficulty, Lifetime = TimeSpan.FromMinutes(2) }),
        Options.Create(new VoterCookieOptions { SigningKey = Convert.ToBase64String(Enumerable.Repeat(key, 32).ToArray()) }),
        _clock);

    private static string Solve(string challenge, int bits, bool wrong = false)
    {
        for (long n = 0; ; n++)
        {
            var solution = n.ToString(CultureInfo.InvariantCulture);
            var zeros = ProofOfWork.LeadingZeroBits(SHA256.HashData(Encoding.ASCII.GetBytes(challenge + ":" + solution)));
            if (wrong ? zeros == 0 : zeros >= bits)
            {
                return solution;
            }
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x80 }, 0)]
    [InlineData(new byte[] { 0x01, 0xff }, 7)]
    [InlineData(new byte[] { 0x00, 0x00, 0x3f }, 18)]
    [InlineData(new byte[] { 0x00, 0x00 }, 16)]
    public void LeadingZeroBitsAreCountedAcrossBytes(byte[] hash, int bits) => Assert.Equal(bits, ProofOfWork.LeadingZeroBits(hash));

    [Fact]
    public void ASolvedChallengeIsAcceptedOnceAndAWrongAnswerNever()
    {
        var pow = Create();
        var challenge = pow.Issue();
        Assert.Equal(ChallengeVerdict.Unsolved, pow.Verify(challenge, Solve(challenge, 8, wrong: true)));
        var solution = Solve(challenge, 8);
        Assert.Equal(ChallengeVerdict.Solved, pow.Verify(challenge, solution));
        Assert.Equal(ChallengeVerdict.AlreadyUsed, pow.Verify(challenge, solution));
    }

    [Fact]
    public void AChallengeAnsweredAfterItsLifetimeIsExpired()
    {
        var pow = Create();
        var challenge = pow.Issue();
        var solution = Solve(challenge, 8);
        _clock.Now += TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1);
        Assert.Equal(ChallengeVerdict.Expired, pow.Verify(challenge, solution));
    }

    [Fact]
    public void AnEasierChallengeThanIssuedOrAnotherSystemsIsForged()
    {
        var pow = Create(difficulty: 12);
        var challenge = pow.Issue();
        var parts = challenge.Split('.');
        parts[3] = "1";
        var easier = string.Join('.', parts);
        Assert.Equal(ChallengeVerdict.Forged, pow.Verify(easier, Solve(easier, 1)));

        var theirs = Create(difficulty: 12, key: 9).Issue();
        Assert.Equal(ChallengeVerdict.Forged, pow.Verify(theirs, Solve(theirs, 12)));
    }

    [Fact]
    public void AChallengeIssuedBeforeTheDifficultyWasRaisedIsNotEnough()
    {
        var challenge = Create(difficulty: 4).Issue();
        Assert.Equal(ChallengeVerdict.Unsolved, Create(difficulty: 8).Verify(challenge, Solve(challenge, 4)));
    }

    [Theory]
    [InlineData(null, "1")]
    [InlineData("", "1")]
    [InlineData("pow1.short.1.8.mac", "1")]
    [InlineData("pow2.AAAAAAAAAAAAAAAAAAAAAA.1.8.mac", "1")]
    [InlineData("pow1.AAAAAAAAAAAAAAAAAAAAAA.1.8.mac", "-1")]
    [InlineData("pow1.AAAAAAAAAAAAAAAAAAAAAA.1.8.mac", "")]
    [InlineData("pow1.AAAAAAAAAAAAAAAAAAAAAA.1.8.mac", "123456789012345678901")]
    public void AnythingElseIsMalformed(string? challenge, string solution) =>
        Assert.Equal(ChallengeVerdict.Malformed, Create().Verify(challenge, solution));
}

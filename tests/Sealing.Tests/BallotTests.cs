using System.Security.Cryptography;
using System.Text;
using Voting.Sealing.Ballots;

namespace Voting.Sealing.Tests;

public sealed class BallotTests
{
    [Fact]
    public void APseudonymIsTheTruncatedHmacOfTheVoterIdUnderThePollsKey()
    {
        var voter = Guid.Parse("0193a7f2-1c2e-7abc-8def-0123456789ab");
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("0193a7f2-1c2e-7abc-8def-0123456789ab"))[..16]);

        Assert.Equal(expected, new PseudonymKey(key).Of(voter).ToString());
        Assert.Equal(new PseudonymKey(key).Of(voter), new PseudonymKey(key).Of(voter));
        Assert.NotEqual(new PseudonymKey(key).Of(voter), new PseudonymKey([.. key.Reverse()]).Of(voter));
    }

    [Theory]
    [InlineData(null, "Poll:PseudonymKey is missing")]
    [InlineData("not base64!", "Poll:PseudonymKey is not base64")]
    [InlineData("AAECAwQFBgcICQoLDA0ODw==", "Poll:PseudonymKey holds 16 bytes; it needs at least 32")]
    public void AWrongPseudonymKeyNamesTheSetting(string? setting, string message)
    {
        var error = Assert.Throws<SealingSettingException>(() => PseudonymKey.FromBase64(setting, "Poll:PseudonymKey"));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PseudonymsOrderAsTheirHexDoes()
    {
        var pseudonyms = Enumerable.Range(0, 500).Select(i => TestSeals.PseudonymKey.Of(TestSeals.VoterId(i))).ToList();
        var byValue = pseudonyms.Order().Select(p => p.ToString());
        var byHex = pseudonyms.Select(p => p.ToString()).Order(StringComparer.Ordinal);
        Assert.Equal(byHex, byValue);
        Assert.All(pseudonyms, p => Assert.True(Pseudonym.TryParse(p.ToString(), out var parsed) && parsed == p));
        Assert.False(Pseudonym.TryParse(pseudonyms[0].ToString().ToUpperInvariant(), out _));
    }

    [Fact]
    public void TheLeafIsPseudonymVoteIdAndOption()
    {
        Assert.True(Pseudonym.TryParse("00112233445566778899aabbccddeeff", out var pseudonym));
        var ballot = new Ballot(pseudonym, "cats, mostly", Guid.Parse("0193A7F2-1C2E-7ABC-8DEF-0123456789AB"), "frontend01");
        Assert.Equal("00112233445566778899aabbccddeeff,0193a7f2-1c2e-7abc-8def-0123456789ab,cats, mostly", Encoding.UTF8.GetString(BallotLine.Of(ballot)));
    }

    [Fact]
    public void BallotsAreInCanonicalOrderWithTheirCounts()
    {
        var ballots = TestSeals.Ballots(300);
        var pseudonyms = Enumerable.Range(0, ballots.Count).Select(i => ballots[i].Pseudonym.ToString()).ToArray();
        Assert.Equal(pseudonyms.Order(StringComparer.Ordinal), pseudonyms);
        Assert.Equal([100L, 200L], ballots.Tallies());
        Assert.Equal(300, ballots.CountsPerFrontend().Values.Sum());
        Assert.Equal(["frontend01", "frontend02"], ballots.CountsPerFrontend().Keys);
        var voter = TestSeals.PseudonymKey.Of(TestSeals.VoterId(42));
        Assert.Equal(voter, ballots[ballots.IndexOf(voter)].Pseudonym);
        Assert.Equal(-1, ballots.IndexOf(TestSeals.PseudonymKey.Of(TestSeals.VoterId(300))));
    }

    [Fact]
    public void OneVoterTwiceOrAnUnknownOptionIsRefused()
    {
        var twice = new BallotSet.Builder(["cats", "dogs"]);
        twice.Add(TestSeals.PseudonymKey.Of(TestSeals.VoterId(1)), "cats", Guid.CreateVersion7(), "frontend01");
        twice.Add(TestSeals.PseudonymKey.Of(TestSeals.VoterId(1)), "dogs", Guid.CreateVersion7(), "frontend02");
        Assert.Contains("one voter counted twice", Assert.Throws<SealingException>(twice.Build).Message, StringComparison.Ordinal);

        var unknown = new BallotSet.Builder(["cats", "dogs"]);
        Assert.Contains("'birds'", Assert.Throws<SealingException>(
            () => unknown.Add(TestSeals.PseudonymKey.Of(TestSeals.VoterId(1)), "birds", Guid.CreateVersion7(), "frontend01")).Message, StringComparison.Ordinal);
    }
}

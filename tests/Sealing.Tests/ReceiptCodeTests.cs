using Voting.Sealing.Ballots;
using Voting.Sealing.Receipts;

namespace Voting.Sealing.Tests;

public sealed class ReceiptCodeTests
{
    [Fact]
    public void ACodeIsThePseudonymsFirstSixtyBitsInCrockfordBase32()
    {
        var pseudonym = new Pseudonym(0x0123456789abcdefUL, 0xfedcba9876543210UL);

        var code = ReceiptCode.Of(pseudonym);

        // 0x0123456789abcde (the first 60 bits), five bits at a time from the most significant.
        Assert.Equal("04HM-ASW9-NF6Y", code.ToString());
        Assert.Equal(0x0123456789abcdeUL, code.Value);
        Assert.True(code.Matches(pseudonym));
        Assert.False(code.Matches(new Pseudonym(0x0123456789abcdffUL, 0)));
    }

    [Fact]
    public void EveryPseudonymWithTheCodeLiesBetweenItsFirstAndLast()
    {
        var pseudonyms = Enumerable.Range(0, 300).Select(i => TestSeals.PseudonymKey.Of(TestSeals.VoterId(i))).ToList();
        foreach (var pseudonym in pseudonyms)
        {
            var code = ReceiptCode.Of(pseudonym);
            Assert.True(code.First <= pseudonym && pseudonym <= code.Last);
            Assert.True(code.Matches(code.First) && code.Matches(code.Last));
            Assert.False(code.Matches(new Pseudonym(code.Last.High + 1, 0)));
            Assert.True(ReceiptCode.TryParse(code.ToString(), out var parsed) && parsed == code);
        }
    }

    [Theory]
    [InlineData("04hm-asw9-nf6y")]
    [InlineData("04HMASW9NF6Y")]
    [InlineData(" 04HM ASW9 NF6Y ")]
    [InlineData("O4HM-ASW9-NF6Y")]
    public void ACodeIsReadAsAVoterMayTypeIt(string typed)
    {
        Assert.True(ReceiptCode.TryParse(typed, out var code));
        Assert.Equal("04HM-ASW9-NF6Y", code.ToString());
    }

    [Fact]
    public void ConfusableLettersReadAsTheDigitsTheyResemble()
    {
        Assert.True(ReceiptCode.TryParse("IL00-0000-0000", out var code));
        Assert.Equal("1100-0000-0000", code.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("04HM-ASW9-NF6")]
    [InlineData("04HM-ASW9-NF6YZ")]
    [InlineData("04HM-ASW9-NF6U")]
    [InlineData("04HM_ASW9_NF6Y")]
    [InlineData("04HM-ASW9-NF6!")]
    public void AnythingElseIsNoCode(string typed) => Assert.False(ReceiptCode.TryParse(typed, out _));
}

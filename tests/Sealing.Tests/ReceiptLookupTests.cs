using Voting.Sealing.Ballots;
using Voting.Sealing.Merkle;
using Voting.Sealing.Receipts;

namespace Voting.Sealing.Tests;

/// <summary>A receipt looked up in a seal: its ballot, the later one that superseded it, a lost vote, or nothing.</summary>
public sealed class ReceiptLookupTests
{
    private static readonly DateTimeOffset Cast = new(2026, 2, 9, 0, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task EveryVotersReceiptFindsTheirBallotWithAProofOfTheRoot()
    {
        var (seal, index, votes) = await SealAsync(100);
        foreach (var (voter, vote) in votes)
        {
            var found = index.Find(vote, CodeOf(voter));

            Assert.Equal(ReceiptStatus.Included, found.Status);
            Assert.Equal(vote, found.Ballot!.Value.VoteId);
            Assert.Equal(TestSeals.PseudonymKey.Of(voter), found.Ballot.Value.Pseudonym);
            Assert.True(found.Proof!.Verifies(MerkleHash.Leaf(BallotLine.Of(found.Ballot.Value)), seal.Tree.Root));
        }
    }

    [Fact]
    public async Task AnEarlierVoteOfTheVoterIsSupersededByTheirBallot()
    {
        var (seal, index, votes) = await SealAsync(20);
        var (voter, counted) = votes.First();
        var earlier = Guid.CreateVersion7(Cast.AddMinutes(-5));

        var found = index.Find(earlier, CodeOf(voter));

        Assert.Equal(ReceiptStatus.Superseded, found.Status);
        Assert.Equal(counted, found.Ballot!.Value.VoteId);
        Assert.True(found.Proof!.Verifies(MerkleHash.Leaf(BallotLine.Of(found.Ballot.Value)), seal.Tree.Root));
    }

    [Fact]
    public async Task AVoteLaterThanTheVotersBallotIsNotCounted()
    {
        var (_, index, votes) = await SealAsync(20);
        var (voter, _) = votes.First();

        var found = index.Find(Guid.CreateVersion7(Cast.AddMinutes(5)), CodeOf(voter));

        Assert.Equal(ReceiptStatus.NotCounted, found.Status);
        Assert.Null(found.Proof);
    }

    [Fact]
    public async Task AVoteIdWithAnotherVotersCodeOrAnUnknownCodeFindsNothing()
    {
        var (_, index, votes) = await SealAsync(20);
        var ((first, firstVote), (second, _)) = (votes[0], votes[1]);

        // Another voter's ballot's vote id, whichever of the two votes is later: nothing, not "superseded".
        Assert.Equal(ReceiptStatus.NotFound, index.Find(firstVote, CodeOf(second)).Status);
        Assert.Equal(ReceiptStatus.NotFound, index.Find(votes[1].Vote, CodeOf(first)).Status);
        Assert.True(ReceiptCode.TryParse("ZZZZ-ZZZZ-ZZZZ", out var unknown));
        Assert.Equal(ReceiptStatus.NotFound, index.Find(firstVote, unknown.Value).Status);
        Assert.Equal(ReceiptStatus.NotFound, index.Find(Guid.CreateVersion7(Cast.AddMinutes(-5)), unknown.Value).Status);
        Assert.Equal(ReceiptStatus.Included, index.Find(firstVote, CodeOf(first)).Status);
    }

    [Fact]
    public void AVotersVotesAreOrderedByTheirTimeThenTheirId()
    {
        var earlier = Guid.CreateVersion7(Cast);
        var later = Guid.CreateVersion7(Cast.AddMilliseconds(1));
        // Two ids of the same millisecond, differing in their last byte only: the id decides.
        var prefix = Convert.ToHexString(earlier.ToByteArray(bigEndian: true))[..30];
        var (low, high) = (new Guid(prefix + "00"), new Guid(prefix + "ff"));

        Assert.True(VoteOrder.Compare(earlier, later) < 0);
        Assert.True(VoteOrder.Compare(later, earlier) > 0);
        Assert.Equal(0, VoteOrder.Compare(earlier, earlier));
        Assert.True(VoteOrder.Compare(low, high) < 0);
        Assert.True(VoteOrder.Compare(high, later) < 0);
    }

    private static ReceiptCode CodeOf(Guid voter) => ReceiptCode.Of(TestSeals.PseudonymKey.Of(voter));

    /// <summary>A seal of <paramref name="count"/> voters' ballots, each cast at <see cref="Cast"/>, and each voter's vote id.</summary>
    private static async Task<(Seal Seal, ReceiptIndex Index, List<(Guid Voter, Guid Vote)> Votes)> SealAsync(int count)
    {
        var votes = Enumerable.Range(0, count).Select(i => (Voter: TestSeals.VoterId(i), Vote: Guid.CreateVersion7(Cast))).ToList();
        var builder = new BallotSet.Builder(TestSeals.Poll.Options);
        foreach (var (voter, vote) in votes)
        {
            builder.Add(TestSeals.PseudonymKey.Of(voter), "cats", vote, "frontend01");
        }

        using var key = TestSeals.NewSigningKey();
        var seal = await Seal.CreateAsync(TestSeals.Poll, builder.Build(), key, TestSeals.SealedAt, CancellationToken.None);
        return (seal, new ReceiptIndex(seal), votes);
    }
}

namespace Voting.Grains.Tests;

/// <summary>The verdicts of a voter-identity shard, one by one, on a live TestCluster.</summary>
[Collection(WorkerClusterCollection.Name)]
public sealed class VoterIdentityGrainTests(WorkerClusterFixture fixture)
{
    // Shard keys far from the ones drainers use, one per test, so tests do not see each other's voters.
    private readonly IVoterIdentityGrain _shard = fixture.Grains.GetGrain<IVoterIdentityGrain>(Random.Shared.Next(10_000, int.MaxValue));
    private readonly Guid _voter = Guid.NewGuid();

    private async Task<Verdict[]> JudgeAsync(params Vote[] votes) => await _shard.JudgeAsync(new VoteBatch(votes));

    [Fact]
    public async Task FirstVoteOfAVoterIsNew()
    {
        Assert.Equal([Verdict.New], await JudgeAsync(TestVotes.Cast(_voter, "a", 1)));
    }

    [Fact]
    public async Task LaterVoteForAnotherOptionIsChanged()
    {
        await JudgeAsync(TestVotes.Cast(_voter, "a", 1));
        Assert.Equal([Verdict.Changed], await JudgeAsync(TestVotes.Cast(_voter, "b", 2)));
    }

    [Fact]
    public async Task LaterVoteForTheSameOptionIsUnchangedAndStillWritten()
    {
        await JudgeAsync(TestVotes.Cast(_voter, "a", 1));
        var verdicts = await JudgeAsync(TestVotes.Cast(_voter, "a", 2));
        Assert.Equal([Verdict.Unchanged], verdicts);
        Assert.True(verdicts[0].MustBeWritten());
    }

    [Fact]
    public async Task OlderVoteThanTheAcceptedOneIsSupersededAndStillWritten()
    {
        // The accepted vote came in an earlier batch, which may never commit: PostgreSQL keeps the later of the two.
        await JudgeAsync(TestVotes.Cast(_voter, "a", 2));
        var verdicts = await JudgeAsync(TestVotes.Cast(_voter, "b", 1));
        Assert.Equal([Verdict.Superseded], verdicts);
        Assert.True(verdicts[0].MustBeWritten());
    }

    [Fact]
    public async Task SameVoteDeliveredAgainIsRedeliveredAndWrittenAgain()
    {
        var vote = TestVotes.Cast(_voter, "a", 1);
        await JudgeAsync(vote);
        var verdicts = await JudgeAsync(vote);
        Assert.Equal([Verdict.Redelivered], verdicts);
        Assert.True(verdicts[0].MustBeWritten());
    }

    [Fact]
    public async Task OnlyTheLatestVoteOfAVoterInOneBatchIsWritten()
    {
        var verdicts = await JudgeAsync(
            TestVotes.Cast(_voter, "a", 2),
            TestVotes.Cast(_voter, "b", 3),
            TestVotes.Cast(_voter, "a", 1));
        Assert.Equal([Verdict.SupersededInBatch, Verdict.Changed, Verdict.SupersededInBatch], verdicts);
        Assert.Equal([false, true, false], verdicts.Select(v => v.MustBeWritten()));
    }

    [Fact]
    public async Task InOneBatchTheLaterVoteIsWrittenWhenItComesFirst()
    {
        var later = TestVotes.Cast(_voter, "b", 2);
        var verdicts = await JudgeAsync(later, TestVotes.Cast(_voter, "a", 1), later);
        Assert.Equal([Verdict.New, Verdict.SupersededInBatch, Verdict.SupersededInBatch], verdicts);
    }

    [Fact]
    public async Task VotesWithinTheSameMillisecondAreOrderedByVoteId()
    {
        var timestamp = DateTime.UtcNow;
        var lower = new Vote(_voter, Guid.Parse("01900000-0000-7000-8000-000000000001"), timestamp, "a");
        var higher = new Vote(_voter, Guid.Parse("01900000-0000-7000-8000-000000000002"), timestamp, "b");
        await JudgeAsync(higher);
        Assert.Equal([Verdict.Superseded], await JudgeAsync(lower));
    }

    [Fact]
    public async Task EachVoterIsJudgedAgainstTheirOwnVote()
    {
        var other = Guid.NewGuid();
        var verdicts = await JudgeAsync(TestVotes.Cast(_voter, "a", 5), TestVotes.Cast(other, "b", 1));
        Assert.Equal([Verdict.New, Verdict.New], verdicts);
    }
}

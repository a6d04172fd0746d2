using Voting.Grains.Identity;

namespace Voting.Grains.Tests;

public sealed class AcceptedVotesTests
{
    private static AcceptedVote Vote() => new(Guid.NewGuid(), DateTime.UtcNow, "a");

    [Fact]
    public void NeverHoldsMoreVotersThanItsCapacity()
    {
        var map = new AcceptedVotes(capacity: 100);
        for (var i = 0; i < 10_000; i++)
        {
            map.Set(Guid.NewGuid(), Vote());
            Assert.InRange(map.Count, 1, 100);
        }

        Assert.Equal(10_000 - map.Count, map.Evicted);
    }

    [Fact]
    public void VotersSeenRecentlySurviveEviction()
    {
        var map = new AcceptedVotes(capacity: 100);
        var regular = Guid.NewGuid();
        var vote = Vote();
        map.Set(regular, vote);
        for (var i = 0; i < 1_000; i++)
        {
            map.Set(Guid.NewGuid(), Vote());
            if (i % 10 == 0)
            {
                Assert.True(map.TryGet(regular, out var found));
                Assert.Equal(vote, found);
            }
        }
    }

    [Fact]
    public void VotersNotSeenForLongestAreForgotten()
    {
        var map = new AcceptedVotes(capacity: 100);
        var once = Guid.NewGuid();
        map.Set(once, Vote());
        for (var i = 0; i < 100; i++)
        {
            map.Set(Guid.NewGuid(), Vote());
        }

        Assert.False(map.TryGet(once, out _));
    }

    [Fact]
    public void SettingAVoterAgainReplacesTheirVote()
    {
        var map = new AcceptedVotes(capacity: 4);
        var voter = Guid.NewGuid();
        map.Set(voter, Vote());
        var latest = Vote();
        map.Set(voter, latest);
        Assert.Equal(1, map.Count);
        Assert.True(map.TryGet(voter, out var found));
        Assert.Equal(latest, found);
    }
}

using Voting.Grains;
using Voting.Web.Voting;

namespace Voting.Web.Tests;

public sealed class VoteIdGeneratorTests
{
    /// <summary>A clock that stands still, or goes back, when the test says so.</summary>
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void IdsAreVersion7AndCarryTheirTimestamp()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 2, 8, 23, 30, 0, 123, TimeSpan.Zero));
        var (id, timestamp) = new VoteIdGenerator(clock).Next();
        Assert.Equal(7, id.Version);
        Assert.Equal(clock.Now.UtcDateTime, timestamp);
        Assert.Equal(DateTimeKind.Utc, timestamp.Kind);
        var bytes = id.ToByteArray(bigEndian: true);
        var milliseconds = ((long)bytes[0] << 40) | ((long)bytes[1] << 32) | ((long)bytes[2] << 24) | ((long)bytes[3] << 16) | ((long)bytes[4] << 8) | bytes[5];
        Assert.Equal(clock.Now.ToUnixTimeMilliseconds(), milliseconds);
    }

    [Fact]
    public void IdsWithinOneMillisecondStillIncrease()
    {
        var generator = new VoteIdGenerator(new ManualClock(DateTimeOffset.UtcNow));
        var previous = generator.Next();
        for (var i = 0; i < 10_000; i++)
        {
            var next = generator.Next();
            Assert.True(next.VoteId.CompareTo(previous.VoteId) > 0);
            Assert.True(next.Timestamp >= previous.Timestamp);
            previous = next;
        }
    }

    [Fact]
    public void IdsKeepIncreasingWhenTheClockStepsBack()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var generator = new VoteIdGenerator(clock);
        var before = generator.Next();
        clock.Now -= TimeSpan.FromSeconds(5);
        var after = generator.Next();
        Assert.True(after.VoteId.CompareTo(before.VoteId) > 0);
        Assert.True(after.Timestamp >= before.Timestamp);
    }

    [Fact]
    public async Task IdsFromConcurrentRequestsAreUnique()
    {
        var generator = new VoteIdGenerator(TimeProvider.System);
        var batches = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Enumerable.Range(0, 25_000).Select(_ => generator.Next().VoteId).ToArray())));
        Assert.Equal(100_000, batches.SelectMany(b => b).Distinct().Count());
    }

    [Fact]
    public void AVoteAfterTheVotersVoteOnAFrontEndWhoseClockIsAheadIsStillLater()
    {
        var now = DateTimeOffset.UtcNow;
        var ahead = new VoteIdGenerator(new ManualClock(now + TimeSpan.FromSeconds(5))).Next();
        var change = new VoteIdGenerator(new ManualClock(now)).Next(after: ahead.VoteId);
        Assert.True(new Vote(Guid.Empty, change.VoteId, change.Timestamp, "b").IsLaterThan(new Vote(Guid.Empty, ahead.VoteId, ahead.Timestamp, "a")));
        Assert.True(change.VoteId.CompareTo(ahead.VoteId) > 0);
    }

    [Fact]
    public void AVoteAfterTheVotersVoteInTheSameMillisecondOnAnotherFrontEndIsLater()
    {
        // Within one millisecond two front ends' ids are not ordered among each other: the busier one's counter is ahead.
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var busy = new VoteIdGenerator(clock);
        for (var i = 0; i < 5; i++)
        {
            busy.Next();
        }

        var first = busy.Next();
        var quiet = new VoteIdGenerator(clock);
        Assert.True(quiet.Next().VoteId.CompareTo(first.VoteId) < 0, "without the voter's previous vote, the quiet front end's id would lose");
        var change = quiet.Next(after: first.VoteId);
        Assert.True(new Vote(Guid.Empty, change.VoteId, change.Timestamp, "b").IsLaterThan(new Vote(Guid.Empty, first.VoteId, first.Timestamp, "a")));
        Assert.Equal(first.Timestamp, change.Timestamp);
    }

    [Fact]
    public void AnIdOfAnotherFormatDoesNotMoveTheGenerator()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 2, 8, 23, 30, 0, 123, TimeSpan.Zero));
        var (_, timestamp) = new VoteIdGenerator(clock).Next(after: Guid.Parse("ffffffff-ffff-4fff-bfff-ffffffffffff"));
        Assert.Equal(clock.Now.UtcDateTime, timestamp);
    }
}

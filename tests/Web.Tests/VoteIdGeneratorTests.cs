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
}

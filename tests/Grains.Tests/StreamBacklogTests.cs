using StackExchange.Redis;
using Voting.Grains.Draining;
using Voting.Storage.Streams;
using Voting.Testing;

namespace Voting.Grains.Tests;

/// <summary>How far behind a stream is, as the drainers report it, against a real Redis.</summary>
[Collection(WorkerClusterCollection.Name)]
public sealed class StreamBacklogTests(WorkerClusterFixture fixture)
{
    private readonly IDatabase _redis = fixture.RedisConnection.GetDatabase();
    private readonly string _stream = "backlog:" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task BacklogCountsPendingAndUndeliveredEntriesAndDatesTheOldest()
    {
        await _redis.StreamCreateConsumerGroupAsync(_stream, VoteStreamEntry.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        var ids = new List<RedisValue>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add(await _redis.StreamAddAsync(_stream, "n", i));
        }

        var delivered = await _redis.StreamReadGroupAsync(_stream, VoteStreamEntry.ConsumerGroup, "reader", StreamPosition.NewMessages, 3);
        var backlog = await StreamBacklog.ReadAsync(_redis, _stream);
        Assert.Equal(10, backlog.Waiting);
        Assert.Equal(3, backlog.Pending);
        Assert.Equal(MillisecondsOf(ids[0]), backlog.OldestWaitingSince?.ToUnixTimeMilliseconds());

        await _redis.StreamAcknowledgeAsync(_stream, VoteStreamEntry.ConsumerGroup, delivered.Select(e => e.Id).ToArray());
        backlog = await StreamBacklog.ReadAsync(_redis, _stream);
        Assert.Equal(7, backlog.Waiting);
        Assert.Equal(0, backlog.Pending);
        Assert.Equal(MillisecondsOf(ids[3]), backlog.OldestWaitingSince?.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task AStreamWithoutAGroupCountsEveryEntryAndAMissingStreamNothing()
    {
        Assert.Equal(default, await StreamBacklog.ReadAsync(_redis, _stream));

        var first = await _redis.StreamAddAsync(_stream, "n", 1);
        await _redis.StreamAddAsync(_stream, "n", 2);
        var backlog = await StreamBacklog.ReadAsync(_redis, _stream);
        Assert.Equal(2, backlog.Waiting);
        Assert.Equal(0, backlog.Pending);
        Assert.Equal(MillisecondsOf(first), backlog.OldestWaitingSince?.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task ADrainerThatCaughtUpReportsNoBacklogAndItsRate()
    {
        var frontend = new FakeFrontend(_redis, fixture.Redis.Endpoint);
        var last = await frontend.AddAsync(Enumerable.Range(0, 200).Select(i => TestVotes.Cast(Guid.NewGuid(), "a", i)));
        await fixture.Grains.GetFrontendRegistry().RegisterAsync(frontend.Info);
        var drainer = fixture.Grains.GetGrain<IQueueDrainerGrain>(frontend.Id);

        await Poll.UntilAsync(async () => await drainer.GetStatusAsync() is { EntriesRead: 200, Backlog: 0, BacklogReadAt: not null },
            TimeSpan.FromSeconds(30), "the drainer did not report an empty backlog after draining");
        var status = await drainer.GetStatusAsync();
        Assert.Null(status.OldestWaitingSince);
        Assert.True(status.DrainRate > 0);
        Assert.NotEqual(RedisValue.Null, last);
    }

    private static long MillisecondsOf(RedisValue id) => long.Parse(((string)id!).Split('-')[0], System.Globalization.CultureInfo.InvariantCulture);
}

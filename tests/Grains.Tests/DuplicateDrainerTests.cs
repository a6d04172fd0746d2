using StackExchange.Redis;
using Voting.Grains.Draining;
using Voting.Storage.Streams;
using Voting.Testing;

namespace Voting.Grains.Tests;

/// <summary>
/// Two drainers of one front end at once, as when Orleans' directory briefly holds two activations of its
/// <see cref="IQueueDrainerGrain"/> after a partition: the grain's own activation on the TestCluster, and a second one
/// built from the same parts under another consumer name (<see cref="TestDrainer"/>), both against the real stream and
/// PostgreSQL.
/// </summary>
[Collection(WorkerClusterCollection.Name)]
public sealed class DuplicateDrainerTests(WorkerClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The duplicate read a batch of first votes and was cut off; the live drainer meanwhile counted the voters'
    /// later votes and thousands more, trimming as it went; then the duplicate comes back, commits its stale batch
    /// and drains beside the live one while votes keep coming. Every voter ends with their latest vote, each counted
    /// once: the stale batch is kept in the stream while the duplicate holds it (the trim rule), it is written but
    /// cannot replace a later vote (the upsert's order guard), and no entry is given to both drainers (the group).
    /// </summary>
    [Fact]
    public async Task TwoDrainersOfOneFrontEndAtOnceCountEveryVoteOnceWithTheLatestPerVoter()
    {
        var frontend = new FakeFrontend(fixture.RedisConnection.GetDatabase(), fixture.Redis.Endpoint);
        var expected = new Dictionary<Guid, Vote>();
        await fixture.Grains.GetFrontendRegistry().RegisterAsync(frontend.Info);
        await WaitUntilDrainedAsync(frontend, await frontend.AddAsync(Remember(TestVotes.Cast(Guid.NewGuid(), "a", 0))));

        // The duplicate's stale batch: first votes of voters who vote again, and the only vote of others.
        const string duplicateConsumer = "duplicate-after-partition";
        var changing = Enumerable.Range(0, 200).Select(i => TestVotes.Cast(Guid.NewGuid(), "a", 1 + i)).ToArray();
        var once = Enumerable.Range(0, 200).Select(i => Remember(TestVotes.Cast(Guid.NewGuid(), "b", 1 + i))).ToArray();
        var held = await AddReadByAsync(frontend, duplicateConsumer, [.. changing, .. once]);
        Assert.Equal(changing.Length + once.Length, held);

        // Meanwhile the live drainer counts the later votes and enough others to trim the stream past the stale
        // batch and make every shard forget those voters.
        var later = changing.Select((v, i) => Remember(TestVotes.Cast(v.VoterId, "b", 1_000 + i))).ToArray();
        var others = Enumerable.Range(0, 3_000).Select(i => Remember(TestVotes.Cast(Guid.NewGuid(), i % 3 == 0 ? "a" : "b", 2_000 + i))).ToArray();
        await WaitUntilDrainedAsync(frontend, await frontend.AddAsync([.. later, .. others]), pendingLeft: held);

        // The duplicate is back and drains beside the live drainer, in small batches, while voters keep voting.
        var options = new DrainingOptions { BatchSize = 50 };
        await using var duplicate = new TestDrainer(fixture, duplicateConsumer, options, TimeProvider.System);
        duplicate.Cycle.Follow(frontend.Info);
        using var stop = new CancellationTokenSource();
        var duplicateRuns = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await duplicate.TickAsync();
                await Task.Delay(TimeSpan.FromMilliseconds(5));
            }
        });

        var random = new Random(10);
        var voters = Enumerable.Range(0, 1_500).Select(_ => Guid.NewGuid()).ToArray();
        RedisValue last = default;
        for (var round = 0; round < 30; round++)
        {
            // Each round, some voters vote (again), a few of them twice in a row.
            var votes = new List<Vote>();
            for (var i = 0; i < 150; i++)
            {
                var voter = voters[random.Next(voters.Length)];
                votes.Add(Remember(TestVotes.Cast(voter, random.Next(2) == 0 ? "a" : "b", 10_000 + round * 1_000 + i * 2)));
                if (random.Next(4) == 0)
                {
                    votes.Add(Remember(TestVotes.Cast(voter, random.Next(2) == 0 ? "a" : "b", 10_000 + round * 1_000 + i * 2 + 1)));
                }
            }

            last = await frontend.AddAsync(votes);
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }

        await WaitUntilDrainedAsync(frontend, last);
        await stop.CancelAsync();
        await duplicateRuns;

        Assert.True(duplicate.EntriesCommitted >= held, $"the duplicate committed {duplicate.EntriesCommitted} entries");
        var stored = await fixture.Database.ReadVotesAsync(expected.Keys);
        var wrong = expected.Where(e => !stored.TryGetValue(e.Key, out var row) || row.VoteId != e.Value.VoteId).ToList();
        Assert.True(wrong.Count == 0,
            $"{wrong.Count} of {expected.Count} voters do not hold their latest vote ({wrong.Count(w => !stored.ContainsKey(w.Key))} hold none)");
        var (tallies, counted) = await fixture.Database.ReadTalliesAndCountsAsync();
        Assert.Equal(counted, tallies);

        Vote Remember(Vote vote)
        {
            expected[vote.VoterId] = vote;
            return vote;
        }
    }

    /// <summary>Appends the votes and has <paramref name="consumer"/> read them in the same step, so no other consumer can.</summary>
    private static async Task<long> AddReadByAsync(FakeFrontend frontend, string consumer, Vote[] votes)
    {
        var fields = votes.SelectMany(v => VoteStreamEntry.Encode(v, frontend.Id)).ToArray();
        RedisValue[] arguments = [consumer, 2 * fields.Length / votes.Length, .. fields.SelectMany(f => new[] { f.Name, f.Value })];
        return (long)await frontend.Redis.ScriptEvaluateAsync(
            """
            local width = tonumber(ARGV[2])
            for i = 3, #ARGV, width do
              redis.call('XADD', KEYS[1], '*', unpack(ARGV, i, i + width - 1))
            end
            local read = redis.call('XREADGROUP', 'GROUP', 'drainers', ARGV[1], 'STREAMS', KEYS[1], '>')
            return #read[1][2]
            """,
            [frontend.StreamKey], arguments);
    }

    /// <summary>Waits until the group was given every entry up to <paramref name="lastEntryId"/> and only the held ones are pending.</summary>
    private static async Task WaitUntilDrainedAsync(FakeFrontend frontend, RedisValue lastEntryId, long pendingLeft = 0)
    {
        await Poll.UntilAsync(
            async () => (await frontend.Redis.StreamGroupInfoAsync(frontend.StreamKey)) is [var group] && group.LastDeliveredId == lastEntryId
                && (await frontend.Redis.StreamPendingAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup)).PendingMessageCount == pendingLeft,
            Timeout,
            $"entry {lastEntryId} is not drained");
    }
}

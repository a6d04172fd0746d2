using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.TestingHost;
using StackExchange.Redis;
using Voting.Storage.Streams;
using Voting.Testing;

namespace Voting.Grains.Tests;

/// <summary>
/// Each way a front end's votes could wait uncounted until someone restarts a worker, against a real Redis stream and
/// a real PostgreSQL on a live TestCluster: the drain goes on by itself, or the registry refuses what would strand
/// votes, and what cannot be counted is said and counted rather than dropped in silence.
/// </summary>
[Collection(WorkerClusterCollection.Name)]
public sealed class DrainNeverStopsTests(WorkerClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private FakeFrontend NewFrontend() => new(fixture.RedisConnection.GetDatabase(), fixture.Redis.Endpoint);

    private Task RegisterAsync(FakeFrontend frontend) => fixture.Grains.GetFrontendRegistry().RegisterAsync(frontend.Info);

    private async Task WaitForVotesAsync(params Vote[] votes)
    {
        await Poll.UntilAsync(
            async () =>
            {
                var stored = await fixture.Database.ReadVotesAsync(votes.Select(v => v.VoterId));
                return votes.All(v => stored.TryGetValue(v.VoterId, out var row) && row.VoteId == v.VoteId);
            },
            Timeout,
            $"not all of {votes.Length} votes are counted");
    }

    [Theory]
    [InlineData("group destroyed")]
    [InlineData("stream deleted")]
    public async Task AConsumerGroupRedisLostIsCreatedAgainAndTheStreamDrained(string loss)
    {
        var frontend = NewFrontend();
        await RegisterAsync(frontend);
        var before = TestVotes.Cast(Guid.NewGuid(), "a", 1);
        await frontend.AddAsync(before);
        await WaitForVotesAsync(before);

        // XGROUP DESTROY; or the stream and its group gone at once, as with a FLUSHALL or a Redis restarted on an
        // empty volume (the front end's next XADD makes a stream without a group).
        if (loss == "group destroyed")
        {
            await frontend.Redis.StreamDeleteConsumerGroupAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup);
        }
        else
        {
            await frontend.Redis.KeyDeleteAsync(frontend.StreamKey);
        }

        var after = TestVotes.Cast(Guid.NewGuid(), "b", 2);
        await frontend.AddAsync(after);
        await WaitForVotesAsync(after);
        Assert.Single(await frontend.Redis.StreamGroupInfoAsync(frontend.StreamKey), g => g.Name == VoteStreamEntry.ConsumerGroup);
    }

    /// <summary>
    /// Entries no vote can be made of, each as a foreign program or a corruption could leave it: the fields changed
    /// (name, value; a null value removes the field) in an otherwise good vote.
    /// </summary>
    private static readonly Dictionary<string, string?[]> NotVotes = new(StringComparer.Ordinal)
    {
        ["a timestamp after year 9999"] = ["ts", "253402300800000"],
        ["a timestamp of 20 digits"] = ["ts", "99999999999999999999"],
        ["a negative timestamp"] = ["ts", "-1"],
        ["an option with a NUL byte"] = ["option", "a\0"],
        ["an option that is not a ballot key"] = ["option", "Cats"],
        ["an empty option"] = ["option", ""],
        ["a vote id that is not 32 hex digits"] = ["id", "0123456789abcdef0123456789abcdeg"],
        ["a voter id in another format"] = ["voter", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}"],
        ["a front end id with a control character"] = ["fe", "frontend\u0001"],
        ["an extra field"] = ["extra", "1"],
        ["a field twice"] = ["option", "a", "option", "b"],
        ["no front end id"] = ["fe", null],
        ["an address hash that is not an integer"] = ["addr", "12ab"],
        ["an address hash beyond 64 bits"] = ["addr", "18446744073709551616"],
        ["a user-agent hash with a plus sign"] = ["ua", "+5"],
        ["an issue time that is negative"] = ["issued", "-1"],
        ["an issue time after year 9999"] = ["issued", "253402300800"],
        // Added, replaced, then added again: two addr fields.
        ["a forensic field twice"] = ["addr", "1", "addr", "2", "addr", "3"],
    };

    public static TheoryData<string> NotVoteCases() => [.. NotVotes.Keys];

    [Theory]
    [MemberData(nameof(NotVoteCases))]
    public async Task AnEntryThatIsNotAVoteIsSetAsideWhateverIsWrongWithItAndTheStreamGoesOn(string what)
    {
        var change = NotVotes[what];
        var frontend = NewFrontend();
        var before = TestVotes.Cast(Guid.NewGuid(), "a", 1);
        var after = TestVotes.Cast(Guid.NewGuid(), "b", 3);
        await frontend.AddAsync(before);
        var bad = Changed(VoteStreamEntry.Encode(TestVotes.Cast(Guid.NewGuid(), "a", 2), frontend.Id), change);
        var badId = await frontend.Redis.StreamAddAsync(frontend.StreamKey, bad);
        await frontend.AddAsync(after);
        await RegisterAsync(frontend);

        await WaitForVotesAsync(before, after);
        await Poll.UntilAsync(
            async () => (await frontend.Redis.StreamPendingAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup)).PendingMessageCount == 0,
            Timeout, $"entries with {what} are still pending");
        var deadLetter = Assert.Single(await frontend.Redis.StreamRangeAsync(frontend.StreamKey + ":dead-letters"));
        Assert.Equal(bad.Select(f => (string?)f.Value), deadLetter.Values.Select(f => (string?)f.Value));
        Assert.NotEqual(default, badId);
    }

    /// <summary>The entry's fields with those of <paramref name="change"/> (name, value; a null value removes the field) set.</summary>
    private static NameValueEntry[] Changed(NameValueEntry[] fields, string?[] change)
    {
        var result = fields.ToList();
        var replaced = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < change.Length; i += 2)
        {
            var (name, value) = (change[i]!, change[i + 1]);
            var at = result.FindIndex(f => f.Name == name);
            if (value is null)
            {
                result.RemoveAt(at);
            }
            else if (at >= 0 && replaced.Add(name))
            {
                result[at] = new NameValueEntry(name, value);
            }
            else
            {
                result.Add(new NameValueEntry(name, value));
            }
        }

        return [.. result];
    }

    [Fact]
    public async Task AFrontEndCannotMoveToAnotherStreamWhileRegisteredWithTheOldOne()
    {
        var frontend = NewFrontend();
        await RegisterAsync(frontend);
        var waiting = TestVotes.Cast(Guid.NewGuid(), "a", 1);
        await frontend.AddAsync(waiting);
        await WaitForVotesAsync(waiting);

        var registry = fixture.Grains.GetFrontendRegistry();
        var moved = frontend.Info with { StreamKey = frontend.StreamKey + ":new" };
        var refused = await Assert.ThrowsAsync<FrontendRegistrationRefusedException>(() => registry.RegisterAsync(moved));
        Assert.Contains($"is registered with Redis {frontend.Info.RedisEndpoint}, stream {frontend.StreamKey}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Retire it first", refused.Message, StringComparison.Ordinal);
        var elsewhere = frontend.Info with { RedisEndpoint = "127.0.0.1:1" };
        await Assert.ThrowsAsync<FrontendRegistrationRefusedException>(() => registry.RegisterAsync(elsewhere));

        // The registration and its drainer still follow the old stream: a vote there is counted.
        Assert.Contains(frontend.Info, await registry.GetFrontendsAsync());
        var later = TestVotes.Cast(Guid.NewGuid(), "b", 2);
        await frontend.AddAsync(later);
        await WaitForVotesAsync(later);
    }

    [Fact]
    public async Task ASecondFrontEndCannotRegisterAStreamAnotherHas()
    {
        var owner = NewFrontend();
        await RegisterAsync(owner);
        var registry = fixture.Grains.GetFrontendRegistry();
        var claimant = new FrontendInfo("fe-" + Guid.NewGuid().ToString("N")[..8], owner.Info.RedisEndpoint, owner.StreamKey);

        var refused = await Assert.ThrowsAsync<FrontendRegistrationRefusedException>(() => registry.RegisterAsync(claimant));
        Assert.Contains($"is front end '{owner.Id}''s", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await registry.GetFrontendsAsync(), f => f.FrontendId == claimant.FrontendId);
    }

    [Fact]
    public async Task PendingEntriesDeletedFromTheStreamAreCountedAndLetGo()
    {
        var frontend = NewFrontend();
        using var deleted = new CounterProbe("voting.drain.pending_deleted", frontend.Id);

        // A vote another consumer read (so it is pending) and then deleted from the stream by something else.
        var gone = TestVotes.Cast(Guid.NewGuid(), "a", 1);
        await frontend.Redis.StreamCreateConsumerGroupAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        var goneId = await frontend.AddAsync(gone);
        await frontend.Redis.StreamReadGroupAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, "a-dead-drainer", StreamPosition.NewMessages, 1);
        await frontend.Redis.StreamDeleteAsync(frontend.StreamKey, [goneId]);
        var kept = TestVotes.Cast(Guid.NewGuid(), "b", 2);
        await frontend.AddAsync(kept);

        await RegisterAsync(frontend);
        await WaitForVotesAsync(kept);
        await Poll.UntilAsync(() => Task.FromResult(deleted.Total == 1), Timeout, $"the deleted pending entry was counted {deleted.Total} times, not once");
        Assert.Equal(0, (await frontend.Redis.StreamPendingAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup)).PendingMessageCount);
    }

    [Fact]
    public async Task OnlyConsumersThatHoldNothingAndWereIdleLongEnoughAreRemoved()
    {
        var frontend = NewFrontend();
        var redis = frontend.Redis;
        await redis.StreamCreateConsumerGroupAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        await frontend.AddAsync(TestVotes.Cast(Guid.NewGuid(), "a", 1));
        // One consumer holds the entry; one holds nothing; and the drainer's own.
        await redis.StreamReadGroupAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, "holder", StreamPosition.NewMessages, 1);
        await redis.ExecuteAsync("XGROUP", "CREATECONSUMER", frontend.StreamKey, VoteStreamEntry.ConsumerGroup, "empty");
        await redis.ExecuteAsync("XGROUP", "CREATECONSUMER", frontend.StreamKey, VoteStreamEntry.ConsumerGroup, "me");
        var group = new Draining.ConsumerGroup(redis, frontend.StreamKey, "me");

        Assert.Equal(0, await group.RemoveIdleConsumersAsync(TimeSpan.FromMinutes(1)));
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(1, await group.RemoveIdleConsumersAsync(TimeSpan.FromMilliseconds(200)));

        var left = (await redis.StreamConsumerInfoAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup)).Select(c => (string?)c.Name).Order();
        Assert.Equal(["holder", "me"], left);
    }

    /// <summary>
    /// A drainer takes over everything pending when it activates; entries another consumer reads after that — a
    /// duplicate activation, as after a partition, that dies before it commits — are counted only because every
    /// <see cref="Draining.DrainingOptions.SweepInterval"/> the drainer also takes over entries idle longer than
    /// <see cref="Draining.DrainingOptions.ClaimIdleTime"/>.
    /// </summary>
    [Fact]
    public async Task EntriesADeadConsumerLeftPendingAfterTheTakeOverAreCountedByThePeriodicSweep()
    {
        var frontend = NewFrontend();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var options = new Draining.DrainingOptions { ClaimIdleTime = TimeSpan.FromMilliseconds(100), SweepInterval = TimeSpan.FromSeconds(30) };
        await using var drainer = new TestDrainer(fixture, "survivor", options, clock);
        drainer.Cycle.Follow(frontend.Info);
        await drainer.TickAsync(); // the activation's take-over: nothing is pending yet

        var votes = Enumerable.Range(0, 50).Select(i => TestVotes.Cast(Guid.NewGuid(), i % 2 == 0 ? "a" : "b", i)).ToArray();
        await frontend.AddAsync(votes);
        var read = await frontend.Redis.StreamReadGroupAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, "dead-duplicate", StreamPosition.NewMessages, 100);
        Assert.Equal(votes.Length, read.Length);
        await Poll.UntilAsync(
            async () => (await frontend.Redis.StreamPendingMessagesAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, 100, "dead-duplicate"))
                .All(p => p.IdleTimeInMilliseconds > options.ClaimIdleTime.TotalMilliseconds),
            Timeout, "the dead consumer's entries are not idle yet");

        // Between sweeps a tick drains only entries nobody was given: these wait.
        clock.Advance(options.SweepInterval - TimeSpan.FromSeconds(1));
        await drainer.TickAsync();
        Assert.Empty(await fixture.Database.ReadVotesAsync(votes.Select(v => v.VoterId)));

        clock.Advance(TimeSpan.FromSeconds(1));
        await drainer.TickAsync();
        var stored = await fixture.Database.ReadVotesAsync(votes.Select(v => v.VoterId));
        Assert.All(votes, v => Assert.Equal(v.VoteId, stored[v.VoterId].VoteId));
        Assert.Equal(0, (await frontend.Redis.StreamPendingAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup)).PendingMessageCount);
    }

    /// <summary>
    /// The other periodic mechanism: the registry's reminder, which brings back a drainer whose activation is gone (its
    /// silo died) when nothing else does — <see cref="Registry.DrainerRevival"/> gave up, the front end stopped
    /// registering. The reminder must exist, and what it runs must bring the drainer back. (It fires once a minute at
    /// the least; the test invokes it as the reminder service does rather than wait for it.)
    /// </summary>
    [Fact]
    public async Task TheRegistrysReminderBringsBackADrainerWhoseActivationIsGone()
    {
        var frontend = NewFrontend();
        await RegisterAsync(frontend);
        var registry = fixture.Grains.GetFrontendRegistry();
        var silo = Assert.IsType<InProcessSiloHandle>(fixture.Cluster.Primary);
        var table = silo.SiloHost.Services.GetRequiredService<IReminderTable>();
        var reminder = Assert.Single((await table.ReadRows(registry.GetGrainId())).Reminders, r => r.ReminderName == "revive-drainers");
        Assert.Equal(new Registry.RegistryOptions().ReviveInterval, reminder.Period);

        // The drainer's activation is gone; the one that answers next has been told of no stream.
        var drainer = fixture.Grains.GetGrain<IQueueDrainerGrain>(frontend.Id);
        var activatedAt = (await drainer.GetStatusAsync()).ActivatedAt;
        await drainer.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        await Poll.UntilAsync(async () => (await drainer.GetStatusAsync()).ActivatedAt != activatedAt, Timeout, "the drainer was not deactivated");
        var waiting = TestVotes.Cast(Guid.NewGuid(), "a", 1);
        await frontend.AddAsync(waiting);

        await registry.AsReference<IRemindable>().ReceiveReminder("revive-drainers", default);
        await WaitForVotesAsync(waiting);
    }

    /// <summary>Sums a counter of the worker's meter for one front end, as the silos in this process record it.</summary>
    private sealed class CounterProbe : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public CounterProbe(string instrument, string frontendId)
        {
            _listener.InstrumentPublished = (found, listener) =>
            {
                if (found.Meter.Name == VotingMetrics.MeterName && found.Name == instrument)
                {
                    listener.EnableMeasurementEvents(found);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "frontend" && (string?)tag.Value == frontendId)
                    {
                        Interlocked.Add(ref _total, value);
                    }
                }
            });
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }
}

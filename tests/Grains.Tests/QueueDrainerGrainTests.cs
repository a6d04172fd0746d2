using Npgsql;
using Orleans.Core.Internal;
using StackExchange.Redis;
using Voting.Grains.Draining;
using Voting.Storage;
using Voting.Storage.Streams;
using Voting.Testing;

namespace Voting.Grains.Tests;

/// <summary>The drainer against a real Redis stream and a real PostgreSQL, on a live TestCluster.</summary>
[Collection(WorkerClusterCollection.Name)]
public sealed class QueueDrainerGrainTests(WorkerClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private FakeFrontend NewFrontend() => new(fixture.RedisConnection.GetDatabase(), fixture.Redis.Endpoint);

    private Task RegisterAsync(FakeFrontend frontend) => fixture.Grains.GetFrontendRegistry().RegisterAsync(frontend.Info);

    /// <summary>Waits until every voter's row holds the expected vote.</summary>
    private async Task WaitForVotesAsync(IReadOnlyDictionary<Guid, Vote> expected)
    {
        await Poll.UntilAsync(
            async () =>
            {
                var stored = await fixture.Database.ReadVotesAsync(expected.Keys);
                return expected.All(e => stored.TryGetValue(e.Key, out var row) && row.VoteId == e.Value.VoteId);
            },
            Timeout,
            async () =>
            {
                var stored = await fixture.Database.ReadVotesAsync(expected.Keys);
                var wrong = expected.Count(e => !stored.TryGetValue(e.Key, out var row) || row.VoteId != e.Value.VoteId);
                return $"{wrong} of {expected.Count} voters do not hold their latest vote";
            });
    }

    private static async Task AssertNothingPendingAsync(FakeFrontend frontend)
    {
        await Poll.UntilAsync(
            async () => (await frontend.Redis.StreamPendingAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup)).PendingMessageCount == 0,
            Timeout,
            "the consumer group still has pending entries");
    }

    /// <summary>Waits until the group has been given every entry up to <paramref name="lastEntryId"/> and acknowledged them all.</summary>
    private static async Task WaitUntilDrainedAsync(FakeFrontend frontend, RedisValue lastEntryId)
    {
        await Poll.UntilAsync(
            async () => (await frontend.Redis.StreamGroupInfoAsync(frontend.StreamKey)) is [var group] && group.LastDeliveredId == lastEntryId,
            Timeout,
            $"entry {lastEntryId} was not delivered to the drainer");
        await AssertNothingPendingAsync(frontend);
    }

    private async Task AssertTalliesEqualCountOfVotesAsync()
    {
        var (tallies, counted) = await fixture.Database.ReadTalliesAndCountsAsync();
        Assert.Equal(counted, tallies);
    }

    [Fact]
    public async Task AcknowledgedVotesFromTwoFrontEndsAreCountedWithTheLatestVotePerVoter()
    {
        var frontends = new[] { NewFrontend(), NewFrontend() };
        var expected = new Dictionary<Guid, Vote>();
        var random = new Random(42);
        var writes = new List<Task>();
        for (var voter = 0; voter < 400; voter++)
        {
            var voterId = Guid.NewGuid();
            var votes = 1 + random.Next(3);
            for (var i = 0; i < votes; i++)
            {
                // Each vote goes to either front end, later votes with later timestamps, as a browser would send them.
                var vote = TestVotes.Cast(voterId, random.Next(2) == 0 ? "a" : "b", voter * 10 + i);
                expected[voterId] = vote;
                writes.Add(frontends[random.Next(2)].AddAsync(vote));
            }
        }

        await Task.WhenAll(writes);
        await Task.WhenAll(frontends.Select(RegisterAsync));

        await WaitForVotesAsync(expected);
        foreach (var frontend in frontends)
        {
            await AssertNothingPendingAsync(frontend);
        }

        await AssertTalliesEqualCountOfVotesAsync();
    }

    [Fact]
    public async Task VotesAddedWhileTheDrainerRunsAreCounted()
    {
        var frontend = NewFrontend();
        await RegisterAsync(frontend);
        var expected = new Dictionary<Guid, Vote>();
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 50; i++)
            {
                var vote = TestVotes.Cast(Guid.NewGuid(), i % 2 == 0 ? "a" : "b", round * 100 + i);
                expected[vote.VoterId] = vote;
                await frontend.AddAsync(vote);
            }

            await Task.Delay(30);
        }

        await WaitForVotesAsync(expected);
        await AssertNothingPendingAsync(frontend);
    }

    [Fact]
    public async Task EntriesLeftPendingByADeadConsumerAreTakenOverAndCounted()
    {
        var frontend = NewFrontend();
        var expected = new Dictionary<Guid, Vote>();
        for (var i = 0; i < 120; i++)
        {
            var vote = TestVotes.Cast(Guid.NewGuid(), "b", i);
            expected[vote.VoterId] = vote;
            await frontend.AddAsync(vote);
        }

        // A consumer reads every entry and dies before acknowledging any.
        await frontend.Redis.StreamCreateConsumerGroupAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, StreamPosition.Beginning);
        var taken = await frontend.Redis.StreamReadGroupAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, "dead-consumer", StreamPosition.NewMessages, 1000);
        Assert.Equal(120, taken.Length);

        await RegisterAsync(frontend);

        await WaitForVotesAsync(expected);
        await AssertNothingPendingAsync(frontend);
    }

    [Fact]
    public async Task TheSameEntriesDeliveredTwiceAreCountedOnce()
    {
        var frontend = NewFrontend();
        var votes = Enumerable.Range(0, 60).Select(i => TestVotes.Cast(Guid.NewGuid(), i % 3 == 0 ? "a" : "b", i)).ToArray();
        await frontend.AddAsync(votes);
        await RegisterAsync(frontend);
        var expected = votes.ToDictionary(b => b.VoterId);
        await WaitForVotesAsync(expected);
        var talliesBefore = await fixture.Database.ReadTalliesAsync();

        // The same votes again, as a replayed stream or a second delivery would bring them.
        await WaitUntilDrainedAsync(frontend, await frontend.AddAsync(votes));

        Assert.Equal(talliesBefore, await fixture.Database.ReadTalliesAsync());
        var stored = await fixture.Database.ReadVotesAsync(expected.Keys);
        Assert.All(expected, e => Assert.Equal(e.Value.VoteId, stored[e.Key].VoteId));
        await AssertTalliesEqualCountOfVotesAsync();
    }

    [Fact]
    public async Task OutOfOrderVotesOfOneVoterThroughTwoFrontEndsEndWithTheLatest()
    {
        var early = NewFrontend();
        var late = NewFrontend();
        var voter = Guid.NewGuid();
        var first = TestVotes.Cast(voter, "a", 1);
        var latest = TestVotes.Cast(voter, "b", 2);
        await late.AddAsync(latest);

        // The later vote is drained first; the earlier one arrives afterwards and must not win.
        await RegisterAsync(late);
        await WaitForVotesAsync(new Dictionary<Guid, Vote> { [voter] = latest });
        var firstEntry = await early.AddAsync(first);
        await RegisterAsync(early);
        await WaitUntilDrainedAsync(early, firstEntry);

        var stored = await fixture.Database.ReadVotesAsync([voter]);
        Assert.Equal(latest.VoteId, stored[voter].VoteId);
        Assert.Equal("b", stored[voter].Option);
    }

    /// <summary>
    /// A voter votes a, b, a. The shard sees the first and the third (same option: "unchanged"), then forgets the
    /// voter; the middle vote arrives late through another front end. Had the unchanged vote not been written,
    /// PostgreSQL would still hold the first vote and let the middle one (b) win.
    /// </summary>
    [Fact]
    public async Task AnUnchangedVoteStillReachesPostgresSoALateOlderVoteCannotWin()
    {
        var frontend = NewFrontend();
        var slow = NewFrontend();
        var voter = Guid.NewGuid();
        var first = TestVotes.Cast(voter, "a", 1);
        var middle = TestVotes.Cast(voter, "b", 2);
        var last = TestVotes.Cast(voter, "a", 3);
        await frontend.AddAsync(first);
        await RegisterAsync(frontend);
        await WaitForVotesAsync(new Dictionary<Guid, Vote> { [voter] = first });
        await WaitUntilDrainedAsync(frontend, await frontend.AddAsync(last));

        // Enough other voters through every shard to make each shard forget this voter.
        var others = Enumerable.Range(0, WorkerClusterFixture.ShardCount * WorkerClusterFixture.MaxVotersPerShard * 4)
            .Select(i => TestVotes.Cast(Guid.NewGuid(), "a", 10 + i)).ToArray();
        await frontend.AddAsync(others);
        await WaitForVotesAsync(others.ToDictionary(b => b.VoterId));

        var middleEntry = await slow.AddAsync(middle);
        await RegisterAsync(slow);
        await WaitUntilDrainedAsync(slow, middleEntry);

        var stored = await fixture.Database.ReadVotesAsync([voter]);
        Assert.Equal("a", stored[voter].Option);
        Assert.Equal(last.VoteId, stored[voter].VoteId);
    }

    /// <summary>
    /// A voter votes a through one front end, then b through another. The second front end's drainer reads and judges
    /// b, and cannot commit it (its worker is cut off from PostgreSQL); then that front end's entry is lost (its Redis
    /// restarted within its fsync window, or it was retired with force). The first vote, which the shard judged
    /// superseded by b, is still written: the voter keeps the vote that survived, not none.
    /// </summary>
    [Fact]
    public async Task AVoteJudgedSupersededIsStillWrittenSoALaterVoteLostBeforeItsCommitLeavesTheVoterCounted()
    {
        var first = NewFrontend();
        var second = NewFrontend();
        var voter = Guid.NewGuid();
        var earlier = TestVotes.Cast(voter, "a", 1);
        var later = TestVotes.Cast(voter, "b", 2);

        await second.AddAsync(later);
        await using (var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=voting;Database=voting;Timeout=2"))
        await using (var cutOff = new TestDrainer(fixture, "cut-off-from-postgres", new DrainingOptions(), TimeProvider.System, unreachable))
        {
            cutOff.Cycle.Follow(second.Info);
            await cutOff.Cycle.TickAsync(CancellationToken.None);
            Assert.NotNull(cutOff.Cycle.LastError);
        }

        Assert.True(await second.Redis.KeyDeleteAsync(second.StreamKey));

        await RegisterAsync(first);
        await WaitUntilDrainedAsync(first, await first.AddAsync(earlier));

        var stored = await fixture.Database.ReadVotesAsync([voter]);
        Assert.True(stored.TryGetValue(voter, out var row), "the voter has no vote counted");
        Assert.Equal(earlier.VoteId, row.VoteId);
        await AssertTalliesEqualCountOfVotesAsync();
    }

    public static TheoryData<string> Orders() =>
        ["one batch, in order", "one batch, reversed", "two batches, in order", "two batches, reversed", "two front ends, in order", "two front ends, reversed"];

    /// <summary>
    /// Every voter votes twice; whichever order the two votes arrive in — within one batch, in two batches of one
    /// front end, through two front ends — the later one is counted, and only once.
    /// </summary>
    [Theory]
    [MemberData(nameof(Orders))]
    public async Task TheLaterOfTwoVotesIsCountedOnceWhicheverOrderTheyArriveIn(string order)
    {
        var voters = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToArray();
        var earlier = voters.Select((v, i) => TestVotes.Cast(v, i % 2 == 0 ? "a" : "b", 1)).ToArray();
        var later = voters.Select((v, i) => TestVotes.Cast(v, i % 4 < 2 ? "b" : "a", 2 + i)).ToArray();
        var reversed = order.EndsWith("reversed", StringComparison.Ordinal);
        var (firstVotes, secondVotes) = reversed ? (later, earlier) : (earlier, later);
        var frontend = NewFrontend();
        var other = order.StartsWith("two front ends", StringComparison.Ordinal) ? NewFrontend() : frontend;

        if (order.StartsWith("one batch", StringComparison.Ordinal))
        {
            // Each voter's two votes next to each other, read in one batch once the drainer starts.
            var last = await frontend.AddAsync(firstVotes.Zip(secondVotes).SelectMany(p => new[] { p.First, p.Second }));
            await RegisterAsync(frontend);
            await WaitUntilDrainedAsync(frontend, last);
        }
        else
        {
            await RegisterAsync(frontend);
            await WaitUntilDrainedAsync(frontend, await frontend.AddAsync(firstVotes));
            if (other != frontend)
            {
                await RegisterAsync(other);
            }

            await WaitUntilDrainedAsync(other, await other.AddAsync(secondVotes));
        }

        var stored = await fixture.Database.ReadVotesAsync(voters);
        Assert.All(later, v => Assert.Equal(v.VoteId, stored[v.VoterId].VoteId));
        await AssertTalliesEqualCountOfVotesAsync();
    }

    [Fact]
    public async Task EntriesThatAreNotVotesAreSetAsideAndDoNotBlockTheStream()
    {
        var frontend = NewFrontend();
        var before = TestVotes.Cast(Guid.NewGuid(), "a", 1);
        var after = TestVotes.Cast(Guid.NewGuid(), "b", 2);
        await frontend.AddAsync(before);
        await frontend.Redis.StreamAddAsync(frontend.StreamKey, [new NameValueEntry("id", "not-a-guid"), new NameValueEntry("option", "a")]);
        await frontend.AddAsync(after);
        await RegisterAsync(frontend);

        await WaitForVotesAsync(new Dictionary<Guid, Vote> { [before.VoterId] = before, [after.VoterId] = after });
        await AssertNothingPendingAsync(frontend);
        var deadLetters = await frontend.Redis.StreamRangeAsync(frontend.StreamKey + ":dead-letters");
        var deadLetter = Assert.Single(deadLetters);
        Assert.Equal("not-a-guid", deadLetter["id"]);
    }

    [Fact]
    public async Task AcknowledgedEntriesAreTrimmedFromTheStream()
    {
        var frontend = NewFrontend();
        var votes = Enumerable.Range(0, 1000).Select(i => TestVotes.Cast(Guid.NewGuid(), "a", i)).ToArray();
        await frontend.AddAsync(votes);
        await RegisterAsync(frontend);
        await WaitForVotesAsync(votes.ToDictionary(b => b.VoterId));
        await AssertNothingPendingAsync(frontend);

        // Trimming removes whole stream nodes (100 entries each by default), so up to one node may remain.
        await Poll.UntilAsync(async () => await frontend.Redis.StreamLengthAsync(frontend.StreamKey) <= 100, Timeout,
            "acknowledged entries are still in the stream");
    }

    [Fact]
    public async Task TrimmingKeepsAnEntryAnotherConsumerStillHoldsWhileLaterOnesAreCommitted()
    {
        var frontend = NewFrontend();
        await RegisterAsync(frontend);
        await WaitUntilDrainedAsync(frontend, await frontend.AddAsync(TestVotes.Cast(Guid.NewGuid(), "a", 1)));

        // Another consumer (a duplicate drainer, mid-commit) holds one entry; the drainer commits a thousand after it
        // and trims after each batch. Trimmed below the group's last delivered entry alone, the stream would lose the
        // held entry's node before it is committed.
        var held = await AddVoteInFlightAsync(frontend);
        var later = Enumerable.Range(10, 1000).Select(i => TestVotes.Cast(Guid.NewGuid(), "b", i)).ToArray();
        await WaitUntilDrainedExceptHeldAsync(frontend, await frontend.AddAsync(later));
        await WaitForVotesAsync(later.ToDictionary(v => v.VoterId));

        Assert.Single(await frontend.Redis.StreamRangeAsync(frontend.StreamKey, held, held));
    }

    private static async Task WaitUntilDrainedExceptHeldAsync(FakeFrontend frontend, RedisValue lastEntryId)
    {
        await Poll.UntilAsync(
            async () => (await frontend.Redis.StreamGroupInfoAsync(frontend.StreamKey)) is [var group] && group.LastDeliveredId == lastEntryId
                && (await frontend.Redis.StreamPendingAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup)).PendingMessageCount == 1,
            Timeout,
            $"entry {lastEntryId} was not drained");
    }

    [Fact]
    public async Task EachVoteIsRecordedWithTheFrontEndItEnteredThrough()
    {
        // The stream's entries name the front end that accepted each vote; the row says the same, whichever drainer
        // wrote it (here two ids in one stream, as a renamed front end's older entries would be).
        var frontend = NewFrontend();
        var own = TestVotes.Cast(Guid.NewGuid(), "a", 1);
        var renamed = TestVotes.Cast(Guid.NewGuid(), "b", 2);
        await frontend.AddAsync(own);
        await frontend.Redis.StreamAddAsync(frontend.StreamKey, VoteStreamEntry.Encode(renamed, "frontend-before-rename"));
        await RegisterAsync(frontend);

        await WaitForVotesAsync(new Dictionary<Guid, Vote> { [own.VoterId] = own, [renamed.VoterId] = renamed });
        var stored = await fixture.Database.ReadVotesAsync([own.VoterId, renamed.VoterId]);
        Assert.Equal(frontend.Id, stored[own.VoterId].FrontendId);
        Assert.Equal("frontend-before-rename", stored[renamed.VoterId].FrontendId);
    }

    [Fact]
    public async Task EachVoteIsRecordedWithItsForensicDataAndEntriesWithoutItStillDrain()
    {
        // A front end writes the hashes and the issue time with each vote; entries from before it did have none.
        var frontend = NewFrontend();
        var withForensics = TestVotes.Cast(Guid.NewGuid(), "a", 1);
        var partly = TestVotes.Cast(Guid.NewGuid(), "b", 2);
        var old = TestVotes.Cast(Guid.NewGuid(), "a", 3);
        var issued = new DateTime(2026, 2, 8, 22, 59, 1, DateTimeKind.Utc);
        await frontend.Redis.StreamAddAsync(frontend.StreamKey,
            VoteStreamEntry.Encode(withForensics, frontend.Id, new VoteForensics(-4_611_686_018_427_387_904, long.MaxValue, issued)));
        await frontend.Redis.StreamAddAsync(frontend.StreamKey,
            VoteStreamEntry.Encode(partly, frontend.Id, new VoteForensics(42, null, null)));
        await frontend.AddAsync(old);
        await RegisterAsync(frontend);

        await WaitForVotesAsync(new Dictionary<Guid, Vote> { [withForensics.VoterId] = withForensics, [partly.VoterId] = partly, [old.VoterId] = old });
        var stored = await fixture.Database.ReadForensicsAsync([withForensics.VoterId, partly.VoterId, old.VoterId]);
        Assert.Equal(new StoredForensics(-4_611_686_018_427_387_904, long.MaxValue, issued), stored[withForensics.VoterId]);
        Assert.Equal(new StoredForensics(42, null, null), stored[partly.VoterId]);
        Assert.Equal(new StoredForensics(null, null, null), stored[old.VoterId]);
        Assert.Empty(await frontend.Redis.StreamRangeAsync(frontend.StreamKey + ":dead-letters"));
    }

    [Fact]
    public async Task AVoterWhoVotesAgainGetsTheLaterVotesForensicData()
    {
        var frontend = NewFrontend();
        var voter = Guid.NewGuid();
        var first = TestVotes.Cast(voter, "a", 1);
        var second = TestVotes.Cast(voter, "b", 2);
        await frontend.Redis.StreamAddAsync(frontend.StreamKey, VoteStreamEntry.Encode(first, frontend.Id, new VoteForensics(1, 1, null)));
        await RegisterAsync(frontend);
        await WaitForVotesAsync(new Dictionary<Guid, Vote> { [voter] = first });
        await frontend.Redis.StreamAddAsync(frontend.StreamKey, VoteStreamEntry.Encode(second, frontend.Id, new VoteForensics(2, null, null)));

        await WaitForVotesAsync(new Dictionary<Guid, Vote> { [voter] = second });
        Assert.Equal(new StoredForensics(2, null, null), (await fixture.Database.ReadForensicsAsync([voter]))[voter]);
    }

    [Fact]
    public async Task TheRegistryKeepsEveryRegisteredFrontEnd()
    {
        var frontend = NewFrontend();
        await RegisterAsync(frontend);
        await RegisterAsync(frontend);
        var registered = await fixture.Grains.GetFrontendRegistry().GetFrontendsAsync();
        Assert.Single(registered, f => f.FrontendId == frontend.Id);
        Assert.Contains(frontend.Info, registered);

        var status = await fixture.Grains.GetGrain<IQueueDrainerGrain>(frontend.Id).GetStatusAsync();
        Assert.Equal(frontend.Id, status.FrontendId);
    }

    [Fact]
    public async Task ADrainedFrontEndIsRetiredAndComesBackWhenItRegistersAgain()
    {
        var frontend = NewFrontend();
        var before = TestVotes.Cast(Guid.NewGuid(), "a", 1);
        await RegisterAsync(frontend);
        await WaitUntilDrainedAsync(frontend, await frontend.AddAsync(before));
        await WaitForVotesAsync(new Dictionary<Guid, Vote> { [before.VoterId] = before });

        var registry = fixture.Grains.GetFrontendRegistry();
        var running = await registry.RetireAsync(frontend.Id, force: false);
        Assert.Equal(RetirementOutcome.StillRunning, running.Outcome);
        Assert.Contains("may still run", running.Detail, StringComparison.Ordinal);

        var retired = await RetireOnceStoppedAsync(frontend.Id);
        Assert.Equal(RetirementOutcome.Retired, retired.Outcome);
        Assert.Equal(0, retired.Waiting);
        Assert.DoesNotContain(await registry.GetFrontendsAsync(), f => f.FrontendId == frontend.Id);

        // Revival (as after a silo died) does not bring a retired front end's drainer back...
        await registry.ReviveDrainersAsync();
        var waiting = TestVotes.Cast(Guid.NewGuid(), "b", 2);
        var entry = await frontend.AddAsync(waiting);
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // 25 poll intervals of a running drainer
        Assert.NotEqual((string?)entry, (await frontend.Redis.StreamGroupInfoAsync(frontend.StreamKey)).Single().LastDeliveredId);

        // ...a registration does, and the votes that waited meanwhile are counted.
        await RegisterAsync(frontend);
        await WaitUntilDrainedAsync(frontend, entry);
        await WaitForVotesAsync(new Dictionary<Guid, Vote> { [waiting.VoterId] = waiting });
        Assert.Equal(RetirementOutcome.NotRegistered, (await registry.RetireAsync("fe-never-registered", force: false)).Outcome);
    }

    [Fact]
    public async Task AFrontEndWithVotesWaitingIsNotRetiredUnlessForced()
    {
        var frontend = NewFrontend();
        await RegisterAsync(frontend);
        await WaitUntilDrainedAsync(frontend, await frontend.AddAsync(TestVotes.Cast(Guid.NewGuid(), "a", 1)));
        await AddVoteInFlightAsync(frontend);

        var registry = fixture.Grains.GetFrontendRegistry();
        var refused = await RetireOnceStoppedAsync(frontend.Id);
        Assert.Equal(RetirementOutcome.VotesWaiting, refused.Outcome);
        Assert.Equal(1, refused.Waiting);
        Assert.Contains("1 votes wait", refused.Detail, StringComparison.Ordinal);
        Assert.Contains(await registry.GetFrontendsAsync(), f => f.FrontendId == frontend.Id);

        var forced = await registry.RetireAsync(frontend.Id, force: true);
        Assert.Equal(RetirementOutcome.Retired, forced.Outcome);
        Assert.Contains("1 waiting votes are abandoned", forced.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(await registry.GetFrontendsAsync(), f => f.FrontendId == frontend.Id);
    }

    [Fact]
    public async Task TheBacklogIsReadFromRedisAtTheTimeOfAsking()
    {
        var frontend = NewFrontend();
        await RegisterAsync(frontend);
        var drainer = fixture.Grains.GetGrain<IQueueDrainerGrain>(frontend.Id);
        await WaitUntilDrainedAsync(frontend, await frontend.AddAsync(TestVotes.Cast(Guid.NewGuid(), "a", 1)));
        Assert.True((await drainer.ReadBacklogAsync(frontend.Info)).IsDrained);

        // Held by another consumer, as a batch being committed: not drained, whatever the last measurement said.
        await AddVoteInFlightAsync(frontend);
        var waiting = await drainer.ReadBacklogAsync(frontend.Info);
        Assert.Equal((frontend.Id, 1, 1, (string?)null), (waiting.FrontendId, waiting.Waiting, waiting.Pending, waiting.Problem));
        Assert.False(waiting.IsDrained);

        var unreachable = await drainer.ReadBacklogAsync(frontend.Info with { RedisEndpoint = "127.0.0.1:1" });
        Assert.Equal((-1, -1), (unreachable.Waiting, unreachable.Pending));
        Assert.NotNull(unreachable.Problem);
        Assert.False(unreachable.IsDrained);
    }

    [Fact]
    public async Task ADrainerActivatedByTheRetirementItselfStillReadsTheStream()
    {
        var frontend = NewFrontend();
        await RegisterAsync(frontend);
        await WaitUntilDrainedAsync(frontend, await frontend.AddAsync(TestVotes.Cast(Guid.NewGuid(), "a", 1)));
        await AddVoteInFlightAsync(frontend);

        // As after the silo that hosted the drainer died, before anything revived it: the activation that answers the
        // retirement has never been told which stream it drains.
        await fixture.Grains.GetGrain<IQueueDrainerGrain>(frontend.Id).AsReference<IGrainManagementExtension>().DeactivateOnIdle();

        var refused = await RetireOnceStoppedAsync(frontend.Id);
        Assert.Equal(RetirementOutcome.VotesWaiting, refused.Outcome);
        Assert.Equal(1, refused.Waiting);
        Assert.Contains(await fixture.Grains.GetFrontendRegistry().GetFrontendsAsync(), f => f.FrontendId == frontend.Id);
    }

    [Fact]
    public async Task AFrontEndWhoseRedisCannotBeReadIsRetiredOnlyWhenForced()
    {
        // Nothing listens on port 1: the drainer keeps failing to reach this front end's Redis.
        var gone = new FrontendInfo("fe-" + Guid.NewGuid().ToString("N")[..8], "127.0.0.1:1", "votes");
        var registry = fixture.Grains.GetFrontendRegistry();
        await registry.RegisterAsync(gone);

        var refused = await RetireOnceStoppedAsync(gone.FrontendId);
        Assert.Equal(RetirementOutcome.RedisUnreachable, refused.Outcome);
        Assert.Contains(await registry.GetFrontendsAsync(), f => f.FrontendId == gone.FrontendId);

        var forced = await registry.RetireAsync(gone.FrontendId, force: true);
        Assert.Equal(RetirementOutcome.Retired, forced.Outcome);
        Assert.Equal(-1, forced.Waiting);
        Assert.DoesNotContain(await registry.GetFrontendsAsync(), f => f.FrontendId == gone.FrontendId);
    }

    /// <summary>
    /// A vote added and read by another consumer in one step (a batch some drainer is committing), so the drainer
    /// cannot have drained it: it stays pending until that consumer is presumed dead (30 s).
    /// </summary>
    private static async Task<RedisValue> AddVoteInFlightAsync(FakeFrontend frontend)
    {
        var inFlight = TestVotes.Cast(Guid.NewGuid(), "b", 2);
        var fields = VoteStreamEntry.Encode(inFlight, frontend.Id).SelectMany(f => new[] { f.Name, f.Value }).ToArray();
        return (RedisValue)await frontend.Redis.ScriptEvaluateAsync(
            """
            local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV))
            redis.call('XREADGROUP', 'GROUP', 'drainers', 'another-drainer', 'COUNT', 1, 'STREAMS', KEYS[1], '>')
            return id
            """,
            [frontend.StreamKey], fields);
    }

    /// <summary>Asks to retire the front end until it no longer counts as running (it stopped registering).</summary>
    private async Task<FrontendRetirement> RetireOnceStoppedAsync(string frontendId)
    {
        FrontendRetirement? answer = null;
        await Poll.UntilAsync(
            async () => (answer = await fixture.Grains.GetFrontendRegistry().RetireAsync(frontendId, force: false)).Outcome != RetirementOutcome.StillRunning,
            Timeout,
            $"{frontendId} still counts as running");
        return answer!;
    }
}

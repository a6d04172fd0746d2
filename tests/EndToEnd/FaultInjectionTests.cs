using System.Diagnostics;
using Npgsql;
using StackExchange.Redis;
using Voting.LoadGen;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Storage.Streams;
using Voting.Testing;
using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The failures of the original tutorial's troubleshooting list, each injected while the load tool votes through
/// both front ends, each ending with the load tool's audit: every acknowledged vote counted, once, latest choice.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class FaultInjectionTests(ChaosFixture system, ITestOutputHelper output)
{
    private static readonly TimeSpan FaultTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AWorkerKilledWhileItsBatchWaitsToCommitLosesNoAcknowledgedVote()
    {
        AppProcess? victim = null;
        var report = await RunWithFaultAsync(system.Load(voters: 2500, rate: 250), async () =>
        {
            // Hold the drainers' commits: their batches are read and judged, their upserts wait for this lock.
            await using var connection = await system.Database.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var lockVotes = new NpgsqlCommand("LOCK TABLE votes IN SHARE MODE", connection, transaction))
            {
                await lockVotes.ExecuteNonQueryAsync();
            }

            await Poll.UntilAsync(async () => await WaitingUpsertsAsync() >= 1, FaultTimeout, "no drainer started a commit");
            victim = await system.DrainerHostAsync("frontend01");
            victim.Process.KillNow();
            Log($"killed {victim.Process.Name} while {await WaitingUpsertsAsync()} upsert(s) waited to commit");
            await transaction.RollbackAsync();
        });

        await system.RestartAsync(victim!);
        AssertAuditPassed(report);
    }

    [Fact]
    public async Task AWorkerKilledBetweenCommitAndAcknowledgementCountsEveryVoteOnce()
    {
        AppProcess? victim = null;
        var report = await RunWithFaultAsync(system.Load(voters: 2500, rate: 250), async () =>
        {
            var redis = system.Redis[0];
            await using var connection = await redis.ConnectAsync(allowAdmin: true);
            var database = connection.GetDatabase();
            victim = await system.DrainerHostAsync("frontend01");
            // XACK refused to the drainers (front ends still XADD): the drainer commits its batch and cannot acknowledge it.
            await database.ExecuteAsync("ACL", "SETUSER", RedisAccounts.DrainerUser, "-xack");
            try
            {
                await Poll.UntilAsync(async () => await CommittedButPendingAsync(database) > 0, FaultTimeout,
                    "no batch was committed and left unacknowledged");
                victim.Process.KillNow();
                Log($"killed {victim.Process.Name} holding {await CommittedButPendingAsync(database)} committed, unacknowledged entries");
            }
            finally
            {
                await database.ExecuteAsync("ACL", "SETUSER", RedisAccounts.DrainerUser, "+xack");
            }
        });

        await system.RestartAsync(victim!);
        AssertAuditPassed(report);
    }

    [Fact]
    public async Task AFrontEndKilledWithRequestsInFlightLosesNoAcknowledgedVote()
    {
        // 16 s of load: frontend01 alone takes the 1,000 acknowledged voters the audit wants, however long the killed
        // front end takes to come back on a busy machine (it was 13 s once, and the load over).
        var report = await RunWithFaultAsync(system.Load(voters: 4000, rate: 250), async () =>
        {
            var victim = system.Frontends[1];
            victim.Process.KillNow();
            Log($"killed {victim.Process.Name}");
            await Task.Delay(TimeSpan.FromSeconds(2));
            await system.RestartAsync(victim);
            Log("started it again");
        });

        AssertAuditPassed(report);
        // Voters whose request died with the front end got no answer: never promised, possibly stored.
        Assert.True(report.Load.Errors > 0, "the kill should have cut requests off");
    }

    [Fact]
    public async Task AFrontEndKilledBehindTheBalancerLosesNoAcknowledgedVoteAndLeavesNoVoterWithoutAnAnswer()
    {
        var load = system.Load(voters: 2500, rate: 250, throughBalancer: true);
        var report = await RunWithFaultAsync(load, async () =>
        {
            var victim = system.Frontends[1];
            victim.Process.KillNow();
            Log($"killed {victim.Process.Name} behind the balancer");
            await Task.Delay(TimeSpan.FromSeconds(4));
            await system.RestartAsync(victim);
            Log("started it again");
        });

        AssertAuditPassed(report);
        // Connections the dead front end refused went to the other one; a request it died holding was answered 503
        // by the balancer ("may or may not have been recorded"). No voter was left without an answer.
        Assert.Equal(0, report.Load.Errors);
        Assert.All(report.Load.RefusedByStatus.Keys, status => Assert.Equal(503, status));
        // At most the requests in flight at the kill; refused connections (dozens, until the health checks noticed)
        // were sent to the other front end.
        Assert.InRange(report.Load.Refused, 0, load.Concurrency);
        await system.WaitUntilBalancedAsync("frontend02", routed: true);
    }

    [Theory]
    [InlineData("always")]
    [InlineData("everysec")]
    public async Task AFrontEndsRedisKilledAndRestartedLosesNoAcknowledgedVote(string appendFsync)
    {
        var redis = system.Redis[0];
        var report = await RunWithFaultAsync(system.Load(voters: 2500, rate: 250), async () =>
        {
            await using (var connection = await redis.ConnectAsync(allowAdmin: true))
            {
                await connection.GetDatabase().ExecuteAsync("CONFIG", "SET", "appendfsync", appendFsync);
            }

            await redis.KillAsync();
            Log($"killed redis (appendfsync {appendFsync})");
            await Task.Delay(TimeSpan.FromSeconds(2));
            await redis.RestartAsync(appendFsync);
            Log("started it again from its append-only file");
        });

        AssertAuditPassed(report);
    }

    [Fact]
    public async Task PostgresStoppedForTwentySecondsLosesNothingAndTheFrontEndsKeepAccepting()
    {
        var report = await RunWithFaultAsync(system.Load(voters: 4500, rate: 150), async () =>
        {
            await system.Postgres.StopImmediatelyAsync();
            var down = Stopwatch.StartNew();
            Log("stopped PostgreSQL (immediate shutdown)");
            await Task.Delay(TimeSpan.FromSeconds(20));
            await system.Postgres.RestartAsync();
            // The fixture's own pooled connections died with the server.
            system.Database.Clear();
            Log($"started PostgreSQL again after {down.Elapsed.TotalSeconds:F1} s");
        });

        AssertAuditPassed(report);
        Assert.Equal(0, report.Load.Refused);
    }

    private async Task<LoadReport> RunWithFaultAsync(LoadOptions load, Func<Task> fault)
    {
        var log = new StringWriter();
        var writer = TextWriter.Synchronized(log);
        var clock = Stopwatch.StartNew();
        using var abandon = new CancellationTokenSource();
        var run = LoadRun.RunAsync(load, writer, abandon.Token);
        try
        {
            // Let the votes flow first.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Log($"{clock.Elapsed.TotalSeconds:F1} s: injecting the fault");
            await fault();
            Log($"{clock.Elapsed.TotalSeconds:F1} s: fault over");
            return await run;
        }
        catch
        {
            // A fault that went wrong must not leave the load running into the next test.
            await abandon.CancelAsync();
            await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30)));
            throw;
        }
        finally
        {
            output.WriteLine(log.ToString());
        }
    }

    private void Log(string message) => output.WriteLine(message);

    private static void AssertAuditPassed(LoadReport report) => AuditAssert.Clean(report, moreAcknowledgedThan: 1000);

    private async Task<long> WaitingUpsertsAsync()
    {
        await using var command = system.Database.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO votes%'");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Pending entries of frontend01's stream whose votes PostgreSQL already holds.</summary>
    private async Task<long> CommittedButPendingAsync(IDatabase redis)
    {
        var pending = await redis.StreamPendingMessagesAsync("votes", VoteStreamEntry.ConsumerGroup, 500, RedisValue.Null);
        var voteIds = new List<Guid>();
        foreach (var entry in pending)
        {
            var found = await redis.StreamRangeAsync("votes", entry.MessageId, entry.MessageId);
            if (found is [var stored] && Guid.TryParseExact((string?)stored["id"], "N", out var voteId))
            {
                voteIds.Add(voteId);
            }
        }

        if (voteIds.Count == 0)
        {
            return 0;
        }

        await using var command = system.Database.CreateCommand("SELECT count(*) FROM votes WHERE vote_id = ANY(@ids)");
        command.Parameters.AddWithValue("ids", voteIds.ToArray());
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

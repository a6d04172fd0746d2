using Npgsql;
using Voting.Storage.Postgres;
using Voting.Testing;

namespace Voting.Grains.Tests;

/// <summary>The votes schema and the batch upsert against a real PostgreSQL, in a database of their own.</summary>
[Collection(WorkerClusterCollection.Name)]
public sealed class VoteWriterTests(WorkerClusterFixture fixture) : IAsyncLifetime
{
    private NpgsqlDataSource _database = null!;
    private VoteWriter _writer = null!;

    public async Task InitializeAsync()
    {
        _database = NpgsqlDataSource.Create(await fixture.Postgres.CreateDatabaseAsync("writer_" + Guid.NewGuid().ToString("N")[..8]));
        await VotingSchema.EnsureAsync(_database, CancellationToken.None);
        _writer = new VoteWriter(_database);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task TalliesEqualCountOfVotesAfterConcurrentOverlappingBatches()
    {
        // Eight writers upsert overlapping voters at once (a voter who used two front ends reaches two drainers).
        var voters = Enumerable.Range(0, 300).Select(_ => Guid.NewGuid()).ToArray();
        var options = new[] { "a", "b", "c" };
        var batches = Enumerable.Range(0, 8).Select(writer =>
        {
            var random = new Random(writer);
            return Enumerable.Range(0, 25).Select(batch => Enumerable.Range(0, 100)
                .Select(_ => TestVotes.Cast(voters[random.Next(voters.Length)], options[random.Next(options.Length)], random.Next(1_000_000)))
                .ToArray()).ToArray();
        }).ToArray();

        await Task.WhenAll(batches.Select(writerBatches => Task.Run(async () =>
        {
            foreach (var batch in writerBatches)
            {
                await _writer.WriteAsync("fe", batch, CancellationToken.None);
            }
        })));

        Assert.Equal(await _database.CountVotesAsync(), await _database.ReadTalliesAsync());
        var latest = batches.SelectMany(b => b).SelectMany(b => b)
            .GroupBy(b => b.VoterId)
            .ToDictionary(g => g.Key, g => g.Aggregate((x, y) => y.IsLaterThan(x) ? y : x));
        var stored = await _database.ReadVotesAsync(latest.Keys);
        Assert.Equal(latest.Count, stored.Count);
        Assert.All(latest, l => Assert.Equal(l.Value.VoteId, stored[l.Key].VoteId));
    }

    /// <summary>
    /// A real deadlock: the writer's batch updates two voters in voter-id order; another transaction holds the second
    /// voter's row and then asks for the first's. PostgreSQL aborts one of the two (40P01); the writer, whose wait
    /// began first, is the one it finds in the cycle. Its batch is idempotent, so it is written again, once.
    /// </summary>
    [Fact]
    public async Task ABatchThatDeadlocksWithAnotherTransactionIsRetriedAndCommittedOnce()
    {
        // The writer looks for a deadlock once, this long after its wait began: long enough, on a busy machine, for
        // this test to see it wait and make the cycle.
        await using (var slower = _database.CreateCommand(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET deadlock_timeout = %L', current_database(), '3s'); END $$"))
        {
            await slower.ExecuteNonQueryAsync();
        }

        _database.Clear();
        var first = Guid.Parse("00000000-0000-4000-8000-000000000001");
        var second = Guid.Parse("ffffffff-ffff-4fff-bfff-ffffffffffff");
        await _writer.WriteAsync("fe", [TestVotes.Cast(first, "a", 1), TestVotes.Cast(second, "a", 1)], CancellationToken.None);
        var batch = new[] { TestVotes.Cast(second, "b", 2), TestVotes.Cast(first, "b", 2) };

        await using var other = await _database.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        // So that this transaction waits long before it looks for a deadlock: the writer is the one PostgreSQL aborts.
        await ExecuteAsync(other, "SET LOCAL deadlock_timeout = '5min'");
        await ExecuteAsync(other, "SELECT 1 FROM votes WHERE voter_id = @voter FOR UPDATE", second);

        var write = _writer.WriteAsync("fe", batch, CancellationToken.None);
        // The writer has updated the first voter's row and waits for the second's.
        await Poll.UntilAsync(
            async () =>
            {
                await using var blocked = _database.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE @pid = ANY(pg_blocking_pids(pid))");
                blocked.Parameters.AddWithValue("pid", other.ProcessID);
                return (long)(await blocked.ExecuteScalarAsync())! == 1;
            },
            TimeSpan.FromSeconds(30), "the writer does not wait for the other transaction");
        Assert.False(write.IsCompleted);

        // Returns once PostgreSQL aborted the writer's first attempt, which held the first voter's row.
        await ExecuteAsync(other, "SELECT 1 FROM votes WHERE voter_id = @voter FOR UPDATE", first);
        await transaction.RollbackAsync();

        Assert.Equal(2, await write);
        var stored = await _database.ReadVotesAsync([first, second]);
        Assert.All(batch, v => Assert.Equal(v.VoteId, stored[v.VoterId].VoteId));
        Assert.Equal(new Dictionary<string, long> { ["b"] = 2 }, await _database.ReadTalliesAsync());
        Assert.Equal(await _database.CountVotesAsync(), await _database.ReadTalliesAsync());
        await Poll.UntilAsync(async () => await DeadlocksAsync() == 1, TimeSpan.FromSeconds(30), "PostgreSQL reports no deadlock in this database");
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, Guid? voter = null)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (voter is { } id)
        {
            command.Parameters.AddWithValue("voter", id);
        }

        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> DeadlocksAsync()
    {
        await using var command = _database.CreateCommand("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task AnOlderVoteWrittenLaterDoesNotReplaceTheLatest()
    {
        var voter = Guid.NewGuid();
        var latest = TestVotes.Cast(voter, "b", 2);
        Assert.Equal(1, await _writer.WriteAsync("fe", [latest], CancellationToken.None));
        Assert.Equal(0, await _writer.WriteAsync("fe", [TestVotes.Cast(voter, "a", 1)], CancellationToken.None));

        Assert.Equal(latest.VoteId, (await _database.ReadVotesAsync([voter]))[voter].VoteId);
        Assert.Equal(new Dictionary<string, long> { ["b"] = 1 }, await _database.ReadTalliesAsync());
    }

    [Fact]
    public async Task WithinOneMillisecondTheLaterVoteIdWinsWhicheverIsWrittenFirst()
    {
        // Two votes of one voter stamped the same millisecond: the vote id, time-ordered, breaks the tie.
        var at = new DateTime(2026, 2, 8, 23, 0, 0, DateTimeKind.Utc);
        var voter = Guid.NewGuid();
        var earlier = new Vote(voter, Guid.CreateVersion7(at), at, "a");
        var later = new Vote(voter, Guid.CreateVersion7(at), at, "b");
        if (later.VoteId.CompareTo(earlier.VoteId) < 0)
        {
            (earlier, later) = (later with { Option = "a" }, earlier with { Option = "b" });
        }

        Assert.Equal(1, await _writer.WriteAsync("fe", [earlier], CancellationToken.None));
        Assert.Equal(1, await _writer.WriteAsync("fe", [later], CancellationToken.None));
        Assert.Equal(0, await _writer.WriteAsync("fe", [earlier], CancellationToken.None));
        Assert.Equal(later.VoteId, (await _database.ReadVotesAsync([voter]))[voter].VoteId);

        var other = Guid.NewGuid();
        await _writer.WriteAsync("fe", [later with { VoterId = other }, earlier with { VoterId = other }], CancellationToken.None);
        Assert.Equal(later.VoteId, (await _database.ReadVotesAsync([other]))[other].VoteId);
        Assert.Equal(new Dictionary<string, long> { ["b"] = 2 }, await _database.ReadTalliesAsync());
    }

    [Fact]
    public async Task ReplayingABatchChangesNothing()
    {
        var batch = Enumerable.Range(0, 50).Select(i => TestVotes.Cast(Guid.NewGuid(), i % 2 == 0 ? "a" : "b", i)).ToArray();
        Assert.Equal(50, await _writer.WriteAsync("fe", batch, CancellationToken.None));
        Assert.Equal(0, await _writer.WriteAsync("fe", batch, CancellationToken.None));
        Assert.Equal(new Dictionary<string, long> { ["a"] = 25, ["b"] = 25 }, await _database.ReadTalliesAsync());
    }

    [Fact]
    public async Task OneBatchWithSeveralVotesOfAVoterKeepsTheLatest()
    {
        var voter = Guid.NewGuid();
        var latest = TestVotes.Cast(voter, "a", 3);
        await _writer.WriteAsync("fe", [TestVotes.Cast(voter, "b", 1), latest, TestVotes.Cast(voter, "b", 2)], CancellationToken.None);
        Assert.Equal(latest.VoteId, (await _database.ReadVotesAsync([voter]))[voter].VoteId);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 1 }, await _database.ReadTalliesAsync());
    }

    [Fact]
    public async Task DeletingVotesKeepsTalliesExact()
    {
        var batch = Enumerable.Range(0, 10).Select(i => TestVotes.Cast(Guid.NewGuid(), "a", i)).ToArray();
        await _writer.WriteAsync("fe", batch, CancellationToken.None);
        await using (var delete = _database.CreateCommand("DELETE FROM votes WHERE voter_id = @voter"))
        {
            delete.Parameters.AddWithValue("voter", batch[0].VoterId);
            await delete.ExecuteNonQueryAsync();
        }

        Assert.Equal(await _database.CountVotesAsync(), await _database.ReadTalliesAsync());
        await using (var truncate = _database.CreateCommand("TRUNCATE votes"))
        {
            await truncate.ExecuteNonQueryAsync();
        }

        Assert.Empty(await _database.ReadTalliesAsync());
    }

    [Fact]
    public async Task DotNetAndPostgresOrderVoteIdsTheSameWay()
    {
        // The shards order votes with Guid.CompareTo, PostgreSQL with uuid comparison: they must agree.
        var pairs = Enumerable.Range(0, 500).Select(_ => (Guid.NewGuid(), Guid.NewGuid())).ToArray();
        await using var command = _database.CreateCommand("SELECT a < b FROM unnest(@a, @b) AS p(a, b)");
        command.Parameters.AddWithValue("a", pairs.Select(p => p.Item1).ToArray());
        command.Parameters.AddWithValue("b", pairs.Select(p => p.Item2).ToArray());
        await using var reader = await command.ExecuteReaderAsync();
        var i = 0;
        while (await reader.ReadAsync())
        {
            Assert.Equal(pairs[i].Item1.CompareTo(pairs[i].Item2) < 0, reader.GetBoolean(0));
            i++;
        }

        Assert.Equal(pairs.Length, i);
    }

    [Fact]
    public async Task TheSchemaIsAppliedOnceWhenManyProcessesStartTogether()
    {
        await using var fresh = NpgsqlDataSource.Create(await fixture.Postgres.CreateDatabaseAsync("schema_" + Guid.NewGuid().ToString("N")[..8]));
        var applied = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => VotingSchema.EnsureAsync(fresh, CancellationToken.None)));
        Assert.Equal(VotingSchema.Migrations.Count, applied.Sum());
        Assert.Equal(0, await VotingSchema.EnsureAsync(fresh, CancellationToken.None));
    }
}

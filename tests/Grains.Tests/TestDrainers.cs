using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Voting.Grains.Draining;
using Voting.Storage.Postgres;

namespace Voting.Grains.Tests;

/// <summary>
/// A drainer's parts put together as <see cref="QueueDrainerGrain"/> puts them together on activation — the same
/// <see cref="DrainCycle"/>, <see cref="DrainLoop"/> and <see cref="VoteJudge"/> over the cluster's voter-identity
/// shards — but ticked by the test, under a consumer name and options of its choosing: a second activation of a
/// drainer that is already running (as after a partition), or one whose clock the test turns.
/// </summary>
internal sealed class TestDrainer : IAsyncDisposable
{
    private readonly RedisConnections _redis = new(Options.Create(WorkerClusterFixture.DrainerRedis), NullLogger<RedisConnections>.Instance);
    private readonly DrainMeter _meter;

    public TestDrainer(WorkerClusterFixture fixture, string consumer, DrainingOptions options, TimeProvider clock, NpgsqlDataSource? database = null)
    {
        _meter = new DrainMeter(clock);
        var judge = new VoteJudge(fixture.Grains, WorkerClusterFixture.ShardCount);
        var loop = new DrainLoop(judge, new VoteWriter(database ?? fixture.Database), _meter, options, clock, NullLogger.Instance);
        Cycle = new DrainCycle(consumer, _redis, loop, _meter, options, clock, NullLogger.Instance);
    }

    public DrainCycle Cycle { get; }

    /// <summary>Stream entries this drainer committed and acknowledged.</summary>
    public long EntriesCommitted => _meter.Status("", "", null).EntriesRead;

    /// <summary>One timer tick; a tick that failed says why.</summary>
    public async Task TickAsync()
    {
        await Cycle.TickAsync(CancellationToken.None);
        Assert.Null(Cycle.LastError);
    }

    public ValueTask DisposeAsync() => _redis.DisposeAsync();
}

/// <summary>A clock that moves only when the test says.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

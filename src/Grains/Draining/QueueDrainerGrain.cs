using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Voting.Storage.Postgres;
using Voting.Storage.Streams;

namespace Voting.Grains.Draining;

/// <summary>
/// Drains one front end's vote stream: read a batch through the consumer group, judge it with the voter-identity
/// shards, write it to PostgreSQL in one transaction, and only then acknowledge (and trim) it. Reading and judging
/// the next batch overlaps with committing the current one; at most one commit is in flight.
/// </summary>
/// <remarks>
/// Every step can fail or be cut short by a <c>kill -9</c>: entries are acknowledged only after their commit, and a
/// commit replayed after a failure changes nothing, so the worst case is a batch written twice. After a failure,
/// and on every activation, the drainer first takes over and finishes whatever is pending in the group.
/// </remarks>
public sealed partial class QueueDrainerGrain(
    RedisConnections redisConnections,
    VoteWriter voteWriter,
    IOptions<DrainingOptions> options,
    TimeProvider timeProvider,
    ILogger<QueueDrainerGrain> logger) : Grain, IQueueDrainerGrain
{
    private readonly DrainingOptions _options = options.Value;
    private string _consumer = "";
    private FrontendInfo? _frontend;
    private IGrainTimer? _timer;
    private bool _groupReady;
    private bool _recoverPending = true;
    private int _consecutiveFailures;
    private DateTimeOffset _retryAt;
    private DateTimeOffset _nextSweepAt;

    private static readonly TimeSpan BacklogInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10);

    private readonly Queue<(DateTimeOffset At, long EntriesRead)> _rateSamples = new();
    private StreamBacklog _backlog;
    private DateTimeOffset? _backlogReadAt;
    private double _drainRate;
    private DateTimeOffset _activatedAt;
    private DateTimeOffset? _firstCommitAt;
    private long _entriesRead;
    private long _votesWritten;
    private long _batchesCommitted;
    private DateTimeOffset? _lastCommitAt;
    private string? _lastError;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A consumer name per activation: entries pending under an older name belong to an activation that is gone.
        _consumer = $"{RuntimeIdentity}/{Guid.NewGuid():N}";
        _activatedAt = timeProvider.GetUtcNow();
        _rateSamples.Enqueue((_activatedAt, 0));
        VotingMetrics.TrackDrainer(this.GetPrimaryKeyString(), () => new DrainerGauges(_backlog.Waiting, OldestWait(), _drainRate));
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        VotingMetrics.ForgetDrainer(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public Task EnsureRunningAsync(FrontendInfo frontend)
    {
        if (!string.Equals(frontend.FrontendId, this.GetPrimaryKeyString(), StringComparison.Ordinal))
        {
            throw new ArgumentException($"Drainer '{this.GetPrimaryKeyString()}' cannot drain front end '{frontend.FrontendId}'.", nameof(frontend));
        }

        // Only where the stream lives matters here; the front end's HTTP address is the balancers' business.
        if (_frontend is null || _frontend.RedisEndpoint != frontend.RedisEndpoint || _frontend.StreamKey != frontend.StreamKey)
        {
            LogDraining(logger, frontend.FrontendId, frontend.RedisEndpoint, frontend.StreamKey, _consumer);
            _groupReady = false;
            _recoverPending = true;
        }

        _frontend = frontend;

        _timer ??= this.RegisterGrainTimer(DrainAsync, new GrainTimerCreationOptions(TimeSpan.Zero, _options.PollInterval)
        {
            // Status calls and re-registrations are answered while a tick waits on Redis or PostgreSQL.
            Interleave = true,
            KeepAlive = true,
        });
        return Task.CompletedTask;
    }

    public async Task<DrainerRetirement> RetireAsync(FrontendInfo frontend, bool force)
    {
        StreamBacklog backlog;
        try
        {
            // Read now, not the last measurement: a vote added since then must keep the drainer running. A commit
            // in flight (this call interleaves with the timer) shows as pending and keeps it running too.
            backlog = await StreamBacklog.ReadAsync(await redisConnections.GetDatabaseAsync(frontend.RedisEndpoint), frontend.StreamKey);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            if (!force)
            {
                return new DrainerRetirement(false, -1, -1, e.Message);
            }

            backlog = new StreamBacklog(-1, -1, null);
        }

        if (backlog.Waiting != 0 && !force)
        {
            return new DrainerRetirement(false, backlog.Waiting, backlog.Pending, null);
        }

        _timer?.Dispose();
        _timer = null;
        _frontend = null;
        LogRetired(logger, this.GetPrimaryKeyString(), backlog.Waiting, force);
        DeactivateOnIdle();
        return new DrainerRetirement(true, backlog.Waiting, backlog.Pending, null);
    }

    public Task<DrainerStatus> GetStatusAsync() => Task.FromResult(new DrainerStatus(
        this.GetPrimaryKeyString(), RuntimeIdentity, _entriesRead, _votesWritten, _batchesCommitted, _lastCommitAt, _lastError, _activatedAt, _firstCommitAt,
        _backlog.Waiting, _backlog.Pending, _backlog.OldestWaitingSince, _drainRate, _backlogReadAt));

    private double OldestWait() => _backlog.OldestWaitingSince is { } since ? Math.Max(0, (timeProvider.GetUtcNow() - since).TotalSeconds) : 0;

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var frontend = _frontend;
        var now = timeProvider.GetUtcNow();
        if (frontend is null || now < _retryAt)
        {
            return;
        }

        try
        {
            var database = await redisConnections.GetDatabaseAsync(frontend.RedisEndpoint);
            RedisKey stream = frontend.StreamKey;
            if (!_groupReady)
            {
                await EnsureConsumerGroupAsync(database, stream);
                _groupReady = true;
            }

            if (_recoverPending)
            {
                await ClaimPendingAsync(database, frontend, TimeSpan.Zero, cancellationToken);
                _recoverPending = false;
                _nextSweepAt = now + _options.SweepInterval;
            }
            else if (now >= _nextSweepAt)
            {
                await ClaimPendingAsync(database, frontend, _options.ClaimIdleTime, cancellationToken);
                await RemoveIdleConsumersAsync(database, stream);
                _nextSweepAt = now + _options.SweepInterval;
            }

            await DrainNewEntriesAsync(database, frontend, now + _options.MaxTickDuration, cancellationToken);
            await MeasureBacklogAsync(database, stream);

            if (_consecutiveFailures > 0)
            {
                LogRecovered(logger, frontend.FrontendId, _consecutiveFailures);
            }

            _consecutiveFailures = 0;
            _lastError = null;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            _consecutiveFailures++;
            _recoverPending = true;
            _lastError = exception.Message;
            var delay = _options.RetryDelay(_consecutiveFailures);
            _retryAt = timeProvider.GetUtcNow() + delay;
            LogDrainFailed(logger, exception, frontend.FrontendId, _consecutiveFailures, delay);
        }
    }

    /// <summary>At most once a second: how many votes wait, since when, and the drain rate over the last seconds.</summary>
    private async Task MeasureBacklogAsync(IDatabase database, RedisKey stream)
    {
        var now = timeProvider.GetUtcNow();
        if (_backlogReadAt is { } last && now - last < BacklogInterval)
        {
            return;
        }

        _backlog = await StreamBacklog.ReadAsync(database, stream);
        _backlogReadAt = now;
        _rateSamples.Enqueue((now, _entriesRead));
        while (_rateSamples.Count > 1 && now - _rateSamples.Peek().At > RateWindow)
        {
            _rateSamples.Dequeue();
        }

        var (oldestAt, oldestEntries) = _rateSamples.Peek();
        _drainRate = now > oldestAt ? (_entriesRead - oldestEntries) / (now - oldestAt).TotalSeconds : 0;
    }

    private static async Task EnsureConsumerGroupAsync(IDatabase database, RedisKey stream)
    {
        try
        {
            // From the very first entry: votes written before any drainer existed are drained too.
            await database.StreamCreateConsumerGroupAsync(stream, VoteStreamEntry.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists already.
        }
    }

    /// <summary>Takes over entries pending in the group for at least <paramref name="minIdle"/> and commits them.</summary>
    private async Task ClaimPendingAsync(IDatabase database, FrontendInfo frontend, TimeSpan minIdle, CancellationToken cancellationToken)
    {
        RedisValue cursor = "0-0";
        do
        {
            var claimed = await database.StreamAutoClaimAsync(
                frontend.StreamKey, VoteStreamEntry.ConsumerGroup, _consumer, (long)minIdle.TotalMilliseconds, cursor, _options.BatchSize);
            if (claimed.DeletedIds.Length > 0)
            {
                // Pending entries that no longer exist in the stream cannot be drained; release them.
                await database.StreamAcknowledgeAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, claimed.DeletedIds);
            }

            if (claimed.ClaimedEntries.Length > 0)
            {
                LogClaimed(logger, frontend.FrontendId, claimed.ClaimedEntries.Length);
                var batch = await JudgeAsync(DrainBatch.Decode(claimed.ClaimedEntries));
                await CommitAsync(database, frontend, batch, cancellationToken);
            }

            cursor = claimed.NextStartId;
        }
        while (cursor != "0-0" && !cancellationToken.IsCancellationRequested);
    }

    private async Task DrainNewEntriesAsync(IDatabase database, FrontendInfo frontend, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        Task commit = Task.CompletedTask;
        try
        {
            var entries = await ReadNewAsync(database, frontend);
            while (entries.Length > 0)
            {
                var batch = await JudgeAsync(DrainBatch.Decode(entries));
                await commit;
                commit = CommitAsync(database, frontend, batch, cancellationToken);
                if (entries.Length < _options.BatchSize || timeProvider.GetUtcNow() >= deadline || cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                entries = await ReadNewAsync(database, frontend);
            }
        }
        finally
        {
            // Never leave a commit running unobserved; its failure (if any) is this tick's failure.
            await commit;
        }
    }

    private Task<StreamEntry[]> ReadNewAsync(IDatabase database, FrontendInfo frontend) =>
        database.StreamReadGroupAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, _consumer, StreamPosition.NewMessages, _options.BatchSize);

    /// <summary>Asks every shard that has votes in the batch for its verdicts, all shards at once.</summary>
    private async Task<DrainBatch> JudgeAsync(DrainBatch batch)
    {
        var votes = batch.Votes;
        var byShard = new Dictionary<int, List<int>>();
        for (var i = 0; i < votes.Count; i++)
        {
            var shard = VoterShards.ShardOf(votes[i].VoterId, _options.ShardCount);
            if (!byShard.TryGetValue(shard, out var indexes))
            {
                byShard[shard] = indexes = [];
            }

            indexes.Add(i);
        }

        var calls = new List<Task>(byShard.Count);
        var keep = new bool[votes.Count];
        foreach (var (shard, indexes) in byShard)
        {
            calls.Add(JudgeShardAsync(shard, indexes));
        }

        await Task.WhenAll(calls);
        batch.Keep(keep);
        return batch;

        async Task JudgeShardAsync(int shard, List<int> indexes)
        {
            var shardVotes = new Vote[indexes.Count];
            for (var i = 0; i < indexes.Count; i++)
            {
                shardVotes[i] = votes[indexes[i]];
            }

            var verdicts = await GrainFactory.GetGrain<IVoterIdentityGrain>(shard).JudgeAsync(new VoteBatch(shardVotes));
            for (var i = 0; i < indexes.Count; i++)
            {
                keep[indexes[i]] = verdicts[i].MustBeWritten();
            }
        }
    }

    private async Task CommitAsync(IDatabase database, FrontendInfo frontend, DrainBatch batch, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var changed = await voteWriter.WriteAsync(frontend.FrontendId, batch.ToWrite, cancellationToken);

        if (batch.Malformed.Count > 0)
        {
            // Entries that are not votes can never be counted: keep them for inspection, then let them go.
            var deadLetters = database.CreateBatch();
            var writes = batch.Malformed.Select(entry => deadLetters.StreamAddAsync(DeadLetterKey(frontend), entry.Values)).ToArray();
            deadLetters.Execute();
            await Task.WhenAll(writes);
            LogMalformed(logger, frontend.FrontendId, batch.Malformed.Count, DeadLetterKey(frontend));
        }

        // Acknowledge only what is committed. A crash before this line means a replay, which changes nothing.
        await database.StreamAcknowledgeAsync(frontend.StreamKey, VoteStreamEntry.ConsumerGroup, batch.EntryIds);
        await VoteStreamTrimmer.TrimAcknowledgedAsync(database, frontend.StreamKey);

        var elapsed = Stopwatch.GetElapsedTime(started);
        _entriesRead += batch.EntryIds.Length;
        _votesWritten += changed;
        _batchesCommitted++;
        _lastCommitAt = timeProvider.GetUtcNow();
        _firstCommitAt ??= _lastCommitAt;
        VotingMetrics.RecordBatch(frontend.FrontendId, batch.EntryIds.Length, changed, elapsed);
        LogCommitted(logger, frontend.FrontendId, batch.EntryIds.Length, batch.ToWrite.Count, changed, elapsed.TotalMilliseconds);
    }

    private static string DeadLetterKey(FrontendInfo frontend) => frontend.StreamKey + ":dead-letters";

    /// <summary>Removes consumers of dead activations once they hold nothing.</summary>
    private async Task RemoveIdleConsumersAsync(IDatabase database, RedisKey stream)
    {
        foreach (var consumer in await database.StreamConsumerInfoAsync(stream, VoteStreamEntry.ConsumerGroup))
        {
            if (consumer.PendingMessageCount == 0
                && consumer.IdleTimeInMilliseconds > _options.ClaimIdleTime.TotalMilliseconds
                && !string.Equals(consumer.Name, _consumer, StringComparison.Ordinal))
            {
                await database.StreamDeleteConsumerAsync(stream, VoteStreamEntry.ConsumerGroup, consumer.Name);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Draining front end {FrontendId} from {RedisEndpoint} stream {StreamKey} as consumer {Consumer}")]
    private static partial void LogDraining(ILogger logger, string frontendId, string redisEndpoint, string streamKey, string consumer);

    [LoggerMessage(2, LogLevel.Debug, "Front end {FrontendId}: committed {Entries} entries, wrote {Votes} votes, {Changed} rows changed in {ElapsedMs:F1} ms")]
    private static partial void LogCommitted(ILogger logger, string frontendId, int entries, int votes, int changed, double elapsedMs);

    [LoggerMessage(3, LogLevel.Warning, "Front end {FrontendId}: draining failed ({Failures} in a row); retrying in {Delay}")]
    private static partial void LogDrainFailed(ILogger logger, Exception exception, string frontendId, int failures, TimeSpan delay);

    [LoggerMessage(4, LogLevel.Information, "Front end {FrontendId}: draining again after {Failures} failed attempts")]
    private static partial void LogRecovered(ILogger logger, string frontendId, int failures);

    [LoggerMessage(5, LogLevel.Information, "Front end {FrontendId}: took over {Count} pending entries")]
    private static partial void LogClaimed(ILogger logger, string frontendId, int count);

    [LoggerMessage(7, LogLevel.Warning, "Front end {FrontendId} retired: its drainer stopped with {Waiting} votes waiting (-1: unknown; forced: {Forced})")]
    private static partial void LogRetired(ILogger logger, string frontendId, long waiting, bool forced);

    [LoggerMessage(6, LogLevel.Error, "Front end {FrontendId}: {Count} stream entries are not votes; moved to {DeadLetterStream}")]
    private static partial void LogMalformed(ILogger logger, string frontendId, int count, string deadLetterStream);
}

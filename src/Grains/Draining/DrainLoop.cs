using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Voting.Storage.Postgres;

namespace Voting.Grains.Draining;

/// <summary>
/// The drain path: read a batch through the consumer group, judge it with the voter-identity shards, write it to
/// PostgreSQL in one transaction, and only then acknowledge (and trim) it. Reading and judging the next batch overlaps
/// with committing the current one; at most one commit is in flight.
/// </summary>
/// <remarks>
/// Every step can fail or be cut short by a <c>kill -9</c>: entries are acknowledged only after their commit, and a
/// commit replayed after a failure changes nothing, so the worst case is a batch written twice.
/// </remarks>
internal sealed class DrainLoop(
    VoteJudge judge,
    VoteWriter voteWriter,
    DrainMeter meter,
    DrainingOptions options,
    TimeProvider timeProvider,
    ILogger logger)
{
    /// <summary>Drains the entries no consumer has been given yet, until a read comes back short or <paramref name="deadline"/> passes.</summary>
    public async Task DrainNewAsync(ConsumerGroup group, string frontendId, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        Task commit = Task.CompletedTask;
        try
        {
            var entries = await group.ReadNewAsync(options.BatchSize);
            while (entries.Length > 0)
            {
                var batch = await judge.JudgeAsync(DrainBatch.Decode(entries));
                await commit;
                commit = CommitAsync(group, frontendId, batch, cancellationToken);
                if (entries.Length < options.BatchSize || timeProvider.GetUtcNow() >= deadline || cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                entries = await group.ReadNewAsync(options.BatchSize);
            }
        }
        finally
        {
            // Never leave a commit running unobserved; its failure (if any) is this tick's failure.
            await commit;
        }
    }

    /// <summary>Takes over entries pending in the group for at least <paramref name="minIdle"/> and commits them.</summary>
    public async Task TakeOverAsync(ConsumerGroup group, string frontendId, TimeSpan minIdle, CancellationToken cancellationToken)
    {
        await foreach (var (entries, deleted) in group.ClaimAsync(minIdle, options.BatchSize, cancellationToken))
        {
            if (deleted.Length > 0)
            {
                // Pending entries deleted from the stream by something other than a drainer (XDEL, an XTRIM with a
                // max length): acknowledged votes that can no longer be counted. Said loudly and counted; XAUTOCLAIM
                // has let them go already.
                DrainerLog.PendingDeleted(logger, frontendId, deleted.Length, string.Join(", ", deleted.Take(20)));
                VotingMetrics.RecordPendingDeleted(frontendId, deleted.Length);
            }

            if (entries.Length > 0)
            {
                DrainerLog.Claimed(logger, frontendId, entries.Length);
                var batch = await judge.JudgeAsync(DrainBatch.Decode(entries));
                await CommitAsync(group, frontendId, batch, cancellationToken);
            }
        }
    }

    private async Task CommitAsync(ConsumerGroup group, string frontendId, DrainBatch batch, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        // Each vote is recorded with the front end it entered through and its forensic data, as its entry says.
        var changed = await voteWriter.WriteAsync(batch.ToWrite, batch.ToWriteFrontends, batch.ToWriteForensics, cancellationToken);

        if (batch.Malformed.Count > 0)
        {
            // Entries that are not votes can never be counted: keep them for inspection, then let them go.
            await group.DeadLetterAsync(batch.Malformed);
            DrainerLog.Malformed(logger, frontendId, batch.Malformed.Count, group.DeadLetterStream);
        }

        // Acknowledge only what is committed. A crash before this line means a replay, which changes nothing.
        await group.AcknowledgeAsync(batch.EntryIds);

        var elapsed = Stopwatch.GetElapsedTime(started);
        meter.RecordCommit(frontendId, batch.EntryIds.Length, changed, elapsed);
        DrainerLog.Committed(logger, frontendId, batch.EntryIds.Length, batch.ToWrite.Count, changed, elapsed.TotalMilliseconds);
    }
}

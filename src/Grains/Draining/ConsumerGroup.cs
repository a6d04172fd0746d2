using System.Runtime.CompilerServices;
using StackExchange.Redis;
using Voting.Storage.Streams;

namespace Voting.Grains.Draining;

/// <summary>
/// A drainer activation's consumer in the group <c>drainers</c> of one front end's stream: reading and acknowledging
/// entries, and the group's housekeeping — taking over entries a dead consumer left pending, removing consumers that
/// are gone, setting aside entries that are not votes.
/// </summary>
internal sealed class ConsumerGroup(IDatabase database, string stream, string consumer)
{
    /// <summary>Where entries that are not votes are kept for inspection.</summary>
    public string DeadLetterStream => stream + ":dead-letters";

    public async Task EnsureCreatedAsync()
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

    /// <summary>Up to <paramref name="count"/> entries never delivered to any consumer.</summary>
    public Task<StreamEntry[]> ReadNewAsync(int count) =>
        database.StreamReadGroupAsync(stream, VoteStreamEntry.ConsumerGroup, consumer, StreamPosition.NewMessages, count);

    /// <summary>
    /// Takes over the entries pending in the group for at least <paramref name="minIdle"/>, <paramref name="count"/> at a
    /// time; the next ones are claimed once the caller is done with these. Each step also names the pending entries
    /// that no longer exist in the stream, which can never be drained: <c>XAUTOCLAIM</c> reports them and has already
    /// removed them from the pending list (Redis 7), so the caller only accounts for them.
    /// </summary>
    public async IAsyncEnumerable<ClaimedEntries> ClaimAsync(TimeSpan minIdle, int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        RedisValue cursor = "0-0";
        do
        {
            var claimed = await database.StreamAutoClaimAsync(stream, VoteStreamEntry.ConsumerGroup, consumer, (long)minIdle.TotalMilliseconds, cursor, count);
            if (claimed.ClaimedEntries.Length > 0 || claimed.DeletedIds.Length > 0)
            {
                yield return new ClaimedEntries(claimed.ClaimedEntries, claimed.DeletedIds);
            }

            cursor = claimed.NextStartId;
        }
        while (cursor != "0-0" && !cancellationToken.IsCancellationRequested);
    }

    /// <summary>Acknowledges committed entries, then trims what every group has acknowledged from the stream.</summary>
    public async Task AcknowledgeAsync(RedisValue[] entryIds)
    {
        await database.StreamAcknowledgeAsync(stream, VoteStreamEntry.ConsumerGroup, entryIds);
        await VoteStreamTrimmer.TrimAcknowledgedAsync(database, stream);
    }

    /// <summary>Copies entries that are not votes to <see cref="DeadLetterStream"/>, in one round trip.</summary>
    public async Task DeadLetterAsync(IReadOnlyList<StreamEntry> entries)
    {
        RedisKey deadLetters = DeadLetterStream;
        var batch = database.CreateBatch();
        var writes = entries.Select(entry => batch.StreamAddAsync(deadLetters, entry.Values)).ToArray();
        batch.Execute();
        await Task.WhenAll(writes);
    }

    /// <summary>
    /// Removes the consumers of dead activations once they hold nothing and were idle for <paramref name="minIdle"/>.
    /// Checking and deleting happen in one script, which Redis runs atomically: a consumer that is alive after all (a
    /// duplicate activation, as after a partition) cannot read entries between the check and <c>XGROUP
    /// DELCONSUMER</c>, which would drop them from the group's pending list and so from the drain.
    /// </summary>
    /// <returns>How many consumers were removed.</returns>
    public async Task<long> RemoveIdleConsumersAsync(TimeSpan minIdle) =>
        (long)await database.ScriptEvaluateAsync(RemoveIdleConsumersScript, [stream],
            [VoteStreamEntry.ConsumerGroup, (long)minIdle.TotalMilliseconds, consumer]);

    private const string RemoveIdleConsumersScript =
        """
        local removed = 0
        for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
          local name, pending, idle
          for i = 1, #info, 2 do
            if info[i] == 'name' then name = info[i + 1]
            elseif info[i] == 'pending' then pending = info[i + 1]
            elseif info[i] == 'idle' then idle = info[i + 1] end
          end
          if name ~= ARGV[3] and pending == 0 and idle > tonumber(ARGV[2]) then
            redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
            removed = removed + 1
          end
        end
        return removed
        """;

    public Task<StreamBacklog> ReadBacklogAsync() => StreamBacklog.ReadAsync(database, stream);
}

/// <summary>One step of taking over pending entries: those claimed, and those found deleted from the stream.</summary>
internal readonly record struct ClaimedEntries(StreamEntry[] Entries, RedisValue[] DeletedIds);

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
    /// time; the next ones are claimed once the caller is done with these.
    /// </summary>
    public async IAsyncEnumerable<StreamEntry[]> ClaimAsync(TimeSpan minIdle, int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        RedisValue cursor = "0-0";
        do
        {
            var claimed = await database.StreamAutoClaimAsync(stream, VoteStreamEntry.ConsumerGroup, consumer, (long)minIdle.TotalMilliseconds, cursor, count);
            if (claimed.DeletedIds.Length > 0)
            {
                // Pending entries that no longer exist in the stream cannot be drained; release them.
                await database.StreamAcknowledgeAsync(stream, VoteStreamEntry.ConsumerGroup, claimed.DeletedIds);
            }

            if (claimed.ClaimedEntries.Length > 0)
            {
                yield return claimed.ClaimedEntries;
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

    /// <summary>Removes the consumers of dead activations once they hold nothing and were idle for <paramref name="minIdle"/>.</summary>
    public async Task RemoveIdleConsumersAsync(TimeSpan minIdle)
    {
        foreach (var other in await database.StreamConsumerInfoAsync(stream, VoteStreamEntry.ConsumerGroup))
        {
            if (other.PendingMessageCount == 0
                && other.IdleTimeInMilliseconds > minIdle.TotalMilliseconds
                && !string.Equals(other.Name, consumer, StringComparison.Ordinal))
            {
                await database.StreamDeleteConsumerAsync(stream, VoteStreamEntry.ConsumerGroup, other.Name);
            }
        }
    }

    public Task<StreamBacklog> ReadBacklogAsync() => StreamBacklog.ReadAsync(database, stream);
}

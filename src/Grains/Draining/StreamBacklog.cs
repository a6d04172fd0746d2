using StackExchange.Redis;
using Voting.Storage.Streams;

namespace Voting.Grains.Draining;

/// <summary>How many votes wait in a front end's stream, and since when the oldest of them waits.</summary>
/// <param name="Waiting">Entries not yet acknowledged: delivered but not committed, plus not yet delivered.</param>
/// <param name="Pending">Entries delivered to a drainer and not yet acknowledged.</param>
/// <param name="OldestWaitingSince">The server timestamp of the oldest waiting entry (from its stream id).</param>
internal readonly record struct StreamBacklog(long Waiting, long Pending, DateTimeOffset? OldestWaitingSince)
{
    public static async Task<StreamBacklog> ReadAsync(IDatabase database, RedisKey stream)
    {
        var group = (await database.StreamGroupInfoAsync(stream)).FirstOrDefault(g => g.Name == VoteStreamEntry.ConsumerGroup);
        var pending = group.PendingMessageCount;
        // Redis reports the lag (entries not yet delivered) unless it cannot know it; the stream's length, which
        // holds at most one stream node of acknowledged entries besides the waiting ones, bounds it then.
        var undelivered = group.Lag ?? Math.Max(0, await database.StreamLengthAsync(stream) - pending);

        RedisValue oldest = RedisValue.Null;
        if (pending > 0)
        {
            oldest = (await database.StreamPendingAsync(stream, VoteStreamEntry.ConsumerGroup)).LowestPendingMessageId;
        }
        else if (undelivered > 0)
        {
            var next = await database.StreamRangeAsync(stream, "(" + group.LastDeliveredId, "+", count: 1);
            oldest = next.Length > 0 ? next[0].Id : RedisValue.Null;
        }

        return new StreamBacklog(pending + undelivered, pending, TimeOf(oldest));
    }

    /// <summary>A stream id starts with the Unix milliseconds at which Redis added the entry.</summary>
    private static DateTimeOffset? TimeOf(RedisValue id)
    {
        var text = (string?)id;
        var dash = text?.IndexOf('-', StringComparison.Ordinal) ?? -1;
        return text is not null && dash > 0 && long.TryParse(text.AsSpan(0, dash), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
    }
}

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
        StreamGroupInfo group;
        try
        {
            group = (await database.StreamGroupInfoAsync(stream)).FirstOrDefault(g => g.Name == VoteStreamEntry.ConsumerGroup);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("ERR no such key", StringComparison.Ordinal))
        {
            return default; // No stream: no vote was ever taken, nothing waits.
        }

        var pending = group.PendingMessageCount;
        // Undelivered entries come after the group's last delivered one. Their number is Redis's lag when Redis is
        // right, but Redis 7.0 lets a group's read counter drift (a lag of 100,000 was seen on a stream of 37
        // entries), so the lag is checked against the first undelivered entry and bounded by the stream's length.
        var after = group.Name is null ? "-" : "(" + group.LastDeliveredId;
        var next = await database.StreamRangeAsync(stream, after, "+", count: 1);
        long undelivered = 0;
        if (next.Length > 0)
        {
            var bound = Math.Max(1, await database.StreamLengthAsync(stream) - pending);
            undelivered = group.Lag is { } lag and > 0 ? Math.Min(lag, bound) : bound;
        }

        var oldest = pending > 0
            ? (await database.StreamPendingAsync(stream, VoteStreamEntry.ConsumerGroup)).LowestPendingMessageId
            : next.Length > 0 ? next[0].Id : RedisValue.Null;

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

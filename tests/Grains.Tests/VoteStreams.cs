using StackExchange.Redis;
using Voting.Storage.Streams;

namespace Voting.Grains.Tests;

/// <summary>Stands in for a web front end: appends votes to a stream exactly as the front end does.</summary>
internal sealed class FakeFrontend(IDatabase redis, string redisEndpoint)
{
    public string Id { get; } = "fe-" + Guid.NewGuid().ToString("N")[..8];

    public string StreamKey => "votes:" + Id;

    public FrontendInfo Info => new(Id, redisEndpoint, StreamKey);

    public IDatabase Redis => redis;

    public async Task<RedisValue> AddAsync(Vote vote) =>
        await redis.StreamAddAsync(StreamKey, VoteStreamEntry.Encode(vote, Id));

    /// <summary>Appends the votes in order and returns the id of the last entry.</summary>
    public async Task<RedisValue> AddAsync(IEnumerable<Vote> votes)
    {
        RedisValue last = default;
        foreach (var vote in votes)
        {
            last = await AddAsync(vote);
        }

        return last;
    }
}

internal static class TestVotes
{
    private static readonly DateTime Epoch = new(2026, 2, 8, 23, 0, 0, DateTimeKind.Utc);

    /// <summary>A vote cast <paramref name="millisecond"/> ms after a fixed instant, with a time-ordered vote id.</summary>
    public static Vote Cast(Guid voterId, string option, int millisecond)
    {
        var timestamp = Epoch.AddMilliseconds(millisecond);
        return new Vote(voterId, Guid.CreateVersion7(timestamp), timestamp, option);
    }
}

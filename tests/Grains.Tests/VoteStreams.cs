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

    public async Task<RedisValue> AddAsync(Ballot ballot) =>
        await redis.StreamAddAsync(StreamKey, VoteStreamEntry.Encode(ballot, Id));

    /// <summary>Appends the ballots in order and returns the id of the last entry.</summary>
    public async Task<RedisValue> AddAsync(IEnumerable<Ballot> ballots)
    {
        RedisValue last = default;
        foreach (var ballot in ballots)
        {
            last = await AddAsync(ballot);
        }

        return last;
    }
}

internal static class Ballots
{
    private static readonly DateTime Epoch = new(2026, 2, 8, 23, 0, 0, DateTimeKind.Utc);

    /// <summary>A ballot cast <paramref name="millisecond"/> ms after a fixed instant, with a time-ordered vote id.</summary>
    public static Ballot Cast(Guid voterId, string option, int millisecond)
    {
        var timestamp = Epoch.AddMilliseconds(millisecond);
        return new Ballot(voterId, Guid.CreateVersion7(timestamp), timestamp, option);
    }
}

using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Voting.Grains;
using Voting.Storage.Streams;
using Voting.Web.Frontend;

namespace Voting.Web.Voting;

/// <summary>A vote Redis has taken: the voter may be told it is recorded.</summary>
public sealed record RecordedVote(Guid VoteId, Guid VoterId, string Option, DateTime Timestamp, string FrontendId);

/// <summary>
/// Appends votes to this front end's Redis stream. One round trip per vote, and the caller hears of success only
/// once Redis acknowledged the write (with <c>appendfsync always</c>, once it is on disk).
/// </summary>
public sealed class VoteRecorder(IConnectionMultiplexer redis, VoteIdGenerator ids, IOptions<FrontendOptions> options)
{
    private readonly RedisKey _stream = options.Value.StreamKey;
    private readonly string _frontendId = options.Value.Id;

    /// <summary>Records the vote, later than <paramref name="previousVote"/>, the voter's last one (if the cookie names one).</summary>
    /// <exception cref="RedisException">Redis is unreachable, full or refused the write: the vote is not recorded.</exception>
    public async Task<RecordedVote> RecordAsync(Guid voterId, string option, Guid previousVote)
    {
        var (voteId, timestamp) = ids.Next(after: previousVote);
        var vote = new Vote(voterId, voteId, timestamp, option);
        await redis.GetDatabase().StreamAddAsync(_stream, VoteStreamEntry.Encode(vote, _frontendId));
        return new RecordedVote(voteId, voterId, option, timestamp, _frontendId);
    }
}

using System.Net;
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
public sealed class VoteRecorder(IConnectionMultiplexer redis, VoteIdGenerator ids, ForensicHasher forensics, IOptions<FrontendOptions> options)
{
    private readonly RedisKey _stream = options.Value.StreamKey;
    private readonly string _frontendId = options.Value.Id;

    /// <summary>
    /// Records the voter's vote, later than the voter's last one (if the cookie names one), with its forensic data:
    /// the client's address and User-Agent as hashes, and when the voter's identity was issued.
    /// </summary>
    /// <exception cref="RedisException">Redis is unreachable, full or refused the write: the vote is not recorded.</exception>
    public async Task<RecordedVote> RecordAsync(VoterCookie voter, string option, IPAddress? client, string? userAgent)
    {
        var (voteId, timestamp) = ids.Next(after: voter.LatestVote);
        var vote = new Vote(voter.VoterId, voteId, timestamp, option);
        var entry = VoteStreamEntry.Encode(vote, _frontendId, forensics.Of(timestamp, client, userAgent, voter.IssuedAt));
        await redis.GetDatabase().StreamAddAsync(_stream, entry);
        return new RecordedVote(voteId, voter.VoterId, option, timestamp, _frontendId);
    }
}

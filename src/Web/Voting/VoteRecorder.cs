using System.Net;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Voting.Grains;
using Voting.Storage.Streams;
using Voting.Web.Frontend;
using Voting.Web.Poll;

namespace Voting.Web.Voting;

/// <summary>A vote Redis has taken: the voter may be told it is recorded.</summary>
public sealed record RecordedVote(Guid VoteId, Guid VoterId, string Option, DateTime Timestamp, string FrontendId);

/// <summary>
/// Appends votes to this front end's Redis stream. One round trip per vote, and the caller hears of success only
/// once Redis acknowledged the write (with <c>appendfsync always</c>, once it is on disk).
/// </summary>
public sealed class VoteRecorder(
    IConnectionMultiplexer redis, VoteIdGenerator ids, ForensicHasher forensics, PollScheduleCopy poll, IOptions<FrontendOptions> options)
{
    private readonly RedisKey _stream = options.Value.StreamKey;
    private readonly string _frontendId = options.Value.Id;

    /// <summary>
    /// Records the voter's vote, later than the voter's last one (if the cookie names one), with its forensic data:
    /// the client's address and User-Agent as hashes, and when the voter's identity was issued.
    /// </summary>
    /// <exception cref="RedisException">Redis is unreachable, full or refused the write: the vote is not recorded.</exception>
    /// <exception cref="VoteOutsideWindowException">
    /// The vote's timestamp is before the open or not before the close, or this front end cannot tell: not recorded.
    /// </exception>
    public async Task<RecordedVote> RecordAsync(VoterCookie voter, string option, IPAddress? client, string? userAgent)
    {
        var (voteId, timestamp) = ids.Next(after: voter.LatestVote);
        // The vote's own timestamp, not the clock: it is later than the clock when the voter's previous vote came from
        // a front end whose clock is ahead, and it is the time the drainers and the count keep.
        if (poll.Decide(new DateTimeOffset(timestamp, TimeSpan.Zero)) is { Verdict: not VoteWindowVerdict.Open } refusal)
        {
            throw new VoteOutsideWindowException(refusal);
        }

        var vote = new Vote(voter.VoterId, voteId, timestamp, option);
        var entry = VoteStreamEntry.Encode(vote, _frontendId, forensics.Of(timestamp, client, userAgent, voter.IssuedAt));
        await redis.GetDatabase().StreamAddAsync(_stream, entry);
        return new RecordedVote(voteId, voter.VoterId, option, timestamp, _frontendId);
    }
}

/// <summary>A vote refused by the poll's schedule: <see cref="Answer"/> says why (403 outside the window, 503 when unsure).</summary>
public sealed class VoteOutsideWindowException(VoteWindowAnswer answer) : Exception(answer.Sentence)
{
    public VoteWindowAnswer Answer { get; } = answer;

    public int StatusCode => Answer.Verdict is VoteWindowVerdict.Unsure ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status403Forbidden;
}

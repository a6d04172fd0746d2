namespace Voting.Storage;

/// <summary>
/// What a front end notes about the request that cast a vote, so that a ballot-stuffing wave can be measured and
/// discounted afterwards: who sent it, as far as a keyed hash tells, and how young the voter's identity was. Each part
/// may be missing (a vote from before these were kept, a request without a User-Agent, a cookie from before issue
/// times). Written to the stream entry and the voter's row with the vote; never used to decide what counts.
/// </summary>
/// <param name="AddressHash">
/// A keyed hash of the client address's prefix (an IPv4 address; an IPv6 address's /64), under a salt that changes
/// every UTC day: equal for two votes of the same day from the same prefix, unrelated across days.
/// </param>
/// <param name="UserAgentHash">A keyed hash of the request's User-Agent header, the same on every day.</param>
/// <param name="IdentityIssuedAt">When the vote page issued the voter's identity (UTC, to the second).</param>
public readonly record struct VoteForensics(long? AddressHash, long? UserAgentHash, DateTime? IdentityIssuedAt)
{
    /// <summary>Nothing known: a vote from before forensic data.</summary>
    public static VoteForensics None => default;
}

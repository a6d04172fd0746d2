using Voting.ServiceDefaults.Edge;

namespace Voting.Web.Abuse;

/// <summary>
/// Rate limits per client against ballot stuffing (section <c>Limits</c>), each a token bucket: new voter identities
/// per client address (<see cref="Identities"/>), votes per client address (<see cref="AddressVotes"/>) and votes per
/// voter, i.e. vote changes (<see cref="VoterVotes"/>). A client address is an IPv4 address or an IPv6 /64 — what one
/// subscriber gets. Each front end keeps its own buckets: behind a balancer spreading a client over N front ends, a
/// client gets up to N times these limits.
/// </summary>
/// <remarks>
/// The defaults are sized for many real voters behind one address, not for one voter: a carrier-grade NAT puts hundreds
/// to a few thousand subscribers behind one public IPv4 address, and a stadium's Wi-Fi tens of thousands behind a
/// handful, all of them reacting to the same ad in the same minute. 300 new identities and 600 votes per address per
/// minute (a burst of as many, refilled smoothly: 5 identities and 10 votes a second) let such a crowd through while
/// cutting one machine's 1,200 identities a second to 5. A voter changes their vote a few times; 10 votes at once and
/// 10 a minute leave room for every change a person makes and stop a script replaying one identity.
/// </remarks>
public sealed class ClientLimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>New voter identities (a <c>GET /</c> without a valid voter cookie) per client address.</summary>
    public TokenBucketSettings Identities { get; set; } = new() { Permits = 300, Refill = 300, Period = TimeSpan.FromMinutes(1) };

    /// <summary>Votes (<c>POST /</c>, <c>POST /api/votes</c>) per client address, whoever the voters are.</summary>
    public TokenBucketSettings AddressVotes { get; set; } = new() { Permits = 600, Refill = 600, Period = TimeSpan.FromMinutes(1) };

    /// <summary>Votes per voter (the voter id of a valid cookie), from whatever address.</summary>
    public TokenBucketSettings VoterVotes { get; set; } = new() { Permits = 10, Refill = 10, Period = TimeSpan.FromMinutes(1) };
}

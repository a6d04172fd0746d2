using Voting.ServiceDefaults.Edge;

namespace Voting.Results.Limits;

/// <summary>
/// The results app's limits per client address (section <c>Results:Limits</c>; an address is an IPv4 address or an
/// IPv6 /64, <see cref="ClientAddress"/>, taken from <c>X-Forwarded-For</c> only from <c>Edge:TrustedProxies</c>):
/// receipt lookups (<see cref="Receipts"/>), ballots.csv downloads (<see cref="ConcurrentDownloads"/> at a time and
/// <see cref="Downloads"/> over time) and everything else public (<see cref="General"/>). The health probes and the
/// management port are never limited. The buckets are this replica's: behind a balancer spreading a client over N
/// replicas, a client gets up to N times these limits.
/// </summary>
/// <remarks>
/// Sized for many people behind one address, as the front ends' limits are (docs/SECURITY.md): a carrier-grade NAT puts
/// thousands of subscribers behind one public IPv4 address, a stadium's Wi-Fi tens of thousands behind a handful. A
/// receipt lookup computes a Merkle proof (about 1.5 ms over ten million ballots): 120 a minute per address with a
/// burst of 300 is a stadium's five addresses answering 600 lookups a minute between them after the announcement,
/// while one machine flooding from its address costs the app 2 lookups a second, 0.3% of a core. ballots.csv streams
/// every ballot (about 720 MB for ten million): 2 downloads at a time and 10 an hour (after a first 10) per address is
/// plenty for auditors and journalists and stops one client from holding the app's bandwidth. Everything else
/// (the page, its stylesheet, script and event stream, the JSON API, the seal's small files) is 1,200 requests a minute
/// per address, 20 a second sustained: a page view is about four requests, so 300 page views a minute per address.
/// </remarks>
public sealed class ResultsLimitsOptions
{
    public const string SectionName = "Results:Limits";

    /// <summary>Receipt lookups, <c>GET /api/receipts/{voteId}?code=</c>, per client address.</summary>
    public TokenBucketSettings Receipts { get; set; } = new() { Permits = 300, Refill = 120, Period = TimeSpan.FromMinutes(1) };

    /// <summary>ballots.csv downloads (<c>GET /api/results/final/ballots.csv</c>) in progress at once per client address.</summary>
    public int ConcurrentDownloads { get; set; } = 2;

    /// <summary>ballots.csv downloads started per client address, however long each takes.</summary>
    public TokenBucketSettings Downloads { get; set; } = new() { Permits = 10, Refill = 10, Period = TimeSpan.FromHours(1) };

    /// <summary>Every other public request (pages, static files, the JSON API, the event stream, unknown paths) per client address.</summary>
    public TokenBucketSettings General { get; set; } = new() { Permits = 1200, Refill = 1200, Period = TimeSpan.FromMinutes(1) };
}

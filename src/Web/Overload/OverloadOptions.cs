namespace Voting.Web.Overload;

/// <summary>
/// How much work a front end takes at once before it sheds the rest (section <c>Overload</c>): the vote page and the
/// vote endpoints share one concurrency limit and one bounded queue; a request that finds both full is answered 503
/// with <c>Retry-After</c> at once, instead of waiting behind work the front end cannot finish in time.
/// </summary>
public sealed class OverloadOptions
{
    public const string SectionName = "Overload";

    /// <summary>Requests to the vote page and the vote endpoints handled at the same time.</summary>
    public int ConcurrencyLimit { get; set; } = 256;

    /// <summary>Requests waiting for one of those places, oldest first; one more is shed. 0: none wait.</summary>
    public int QueueLimit { get; set; } = 512;

    /// <summary>
    /// Readiness turns <c>Unhealthy</c> while the front end's Redis uses more than this share of its
    /// <c>maxmemory</c> (a Redis without a limit is never near it): a balancer then routes new votes elsewhere before
    /// that Redis refuses writes. Between 0 and 1.
    /// </summary>
    public double RedisMemoryNotReadyFraction { get; set; } = 0.9;
}

using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Edge;
using Voting.Web.Voting;

namespace Voting.Web.Abuse;

/// <summary>
/// The front end's per-client limits (<see cref="ClientLimitsOptions"/>), the rate limiting middleware's global
/// limiter: it runs before the endpoint's concurrency limit (<see cref="Overload.OverloadProtection"/>), so a limited
/// client is answered 429 without taking one of the places the front end has, and a busy front end still answers
/// 503. Three partitioned token-bucket limiters of the library: identities per client address, votes per voter,
/// votes per client address. Only endpoints marked with <see cref="ClientLimitMetadata"/> are limited: health,
/// metrics and <c>/api/options</c> never are.
/// </summary>
/// <remarks>
/// A vote takes its voter's permit first, then its address's: a voter over their own limit is refused without using up
/// the permits of the other voters behind the same address (a token bucket does not take back a permit). The voter
/// cookie is checked here too, as the endpoint does: only a valid cookie names a voter, and only a page view without
/// one mints an identity.
/// </remarks>
public sealed class ClientLimiter : PartitionedRateLimiter<HttpContext>
{
    /// <summary>Which limit refused a request: <c>identity</c>, <c>address</c> or <c>voter</c>.</summary>
    public static readonly MetadataName<string> LimitName = MetadataName.Create<string>("voting.limit");

    public const string IdentityLimit = "identity";
    public const string AddressLimit = "address";
    public const string VoterLimit = "voter";

    private readonly PartitionedRateLimiter<UInt128> _identities;
    private readonly PartitionedRateLimiter<UInt128> _addressVotes;
    private readonly PartitionedRateLimiter<Guid> _voterVotes;
    private readonly VoterCookies _cookies;
    private readonly VotePage _page;

    public ClientLimiter(IOptions<ClientLimitsOptions> options, VoterCookies cookies, VotePage page)
    {
        var limits = options.Value;
        _identities = Buckets<UInt128>(limits.Identities);
        _addressVotes = Buckets<UInt128>(limits.AddressVotes);
        _voterVotes = Buckets<Guid>(limits.VoterVotes);
        _cookies = cookies;
        _page = page;
    }

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        if (resource.GetEndpoint()?.Metadata.GetMetadata<ClientLimitMetadata>() is not { } limited)
        {
            return Lease.Granted;
        }

        // The middleware asks again (AcquireAsync) when this or the endpoint's concurrency limit refused the
        // request: the answer stands, and a second ask must not take the request's permits twice.
        if (resource.Features.Get<Decided>() is { } decided)
        {
            return decided.Lease;
        }

        var lease = Decide(resource, limited);
        resource.Features.Set(lease.IsAcquired ? Decided.Granted : new Decided(lease));
        return lease;
    }

    private Lease Decide(HttpContext resource, ClientLimitMetadata limited)
    {
        var hasVoter = _cookies.Read(resource.Request, out VoterCookie voter) == VoterCookieState.Valid;
        var address = ClientAddress.Key(resource.Connection.RemoteIpAddress);
        if (limited.Kind == ClientLimitKind.Page)
        {
            // A returning voter's page mints nothing.
            return hasVoter ? Lease.Granted : Take(_identities, address, IdentityLimit);
        }

        if (hasVoter && Take(_voterVotes, voter.VoterId, VoterLimit) is { IsAcquired: false } refused)
        {
            return refused;
        }

        return Take(_addressVotes, address, AddressLimit);
    }

    // Nothing waits: every bucket has no queue.
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));

    /// <summary>
    /// Answers a limited request: 429 with <c>Retry-After</c> (when the bucket has a permit again, rounded up to whole
    /// seconds) and, like a shed request, the vote page or a problem saying so and that the vote was not recorded.
    /// </summary>
    public async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var limit = rejected.Lease.TryGetMetadata(LimitName, out var name) && name is not null ? name : AddressLimit;
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        LimitMetrics.RecordLimited(limit);

        var request = context.Request;
        var wait = string.Create(CultureInfo.InvariantCulture, $"{seconds} s");
        const int Status = StatusCodes.Status429TooManyRequests;
        if (HttpMethods.IsGet(request.Method))
        {
            await TypedResults.Content(
                _page.Render(null, VotePageNotice.Rejected, $"Too many new voters have come from your network in a short time. Please try again in {wait}."),
                "text/html; charset=utf-8", statusCode: Status).ExecuteAsync(context);
            return;
        }

        VoteMetrics.RecordRefused(Status);
        var why = limit == VoterLimit
            ? "this voter has voted too often in a short time"
            : "too many votes have come from this client's network in a short time";
        if (request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            // The limit by name in a member of its own, as the results app's refusals have it: a client can act on it
            // without reading the sentence.
            await TypedResults.Problem(
                title: "Too many requests",
                detail: $"The vote was not recorded: {why}. Retry after {wait}.",
                statusCode: Status,
                extensions: new Dictionary<string, object?> { ["limit"] = limit }).ExecuteAsync(context);
        }
        else
        {
            await TypedResults.Content(
                _page.Render(null, VotePageNotice.NotRecorded, $"{why}. Please try again in {wait}."),
                "text/html; charset=utf-8", statusCode: Status).ExecuteAsync(context);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _identities.Dispose();
            _addressVotes.Dispose();
            _voterVotes.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await _identities.DisposeAsync();
        await _addressVotes.DisposeAsync();
        await _voterVotes.DisposeAsync();
        await base.DisposeAsyncCore();
    }

    private static PartitionedRateLimiter<TKey> Buckets<TKey>(TokenBucketSettings settings)
        where TKey : notnull
    {
        // One set of options for every partition; the partitioned limiter refills its buckets on its own timer and
        // drops those that have been full (idle) for a while, so an address that stops sending costs nothing.
        var options = settings.ToLimiterOptions();
        return PartitionedRateLimiter.Create<TKey, TKey>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => options));
    }

    /// <summary>A permit from <paramref name="key"/>'s bucket; a token-bucket lease holds nothing, so it is released at once.</summary>
    private static Lease Take<TKey>(PartitionedRateLimiter<TKey> limiter, TKey key, string limit)
    {
        using var lease = limiter.AttemptAcquire(key);
        return lease.IsAcquired ? Lease.Granted
            : new Lease(limit, lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : null);
    }

    /// <summary>The feature that holds a request's answer, once given.</summary>
    private sealed class Decided(Lease lease)
    {
        public static readonly Decided Granted = new(Lease.Granted);

        public Lease Lease => lease;
    }

    /// <summary>
    /// A granted lease, or a refused one that names the limit that refused it and when the bucket has a permit again
    /// (copied from the bucket's lease, which holds nothing else: a token bucket's lease never gives a permit back).
    /// </summary>
    private sealed class Lease(string? limit, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(null, null);

        public override bool IsAcquired => limit is null;

        public override IEnumerable<string> MetadataNames =>
            limit is null ? [] : retryAfter is null ? [LimitName.Name] : [LimitName.Name, MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = limit is null ? null
                : metadataName == LimitName.Name ? limit
                : metadataName == MetadataName.RetryAfter.Name ? retryAfter
                : null;
            return metadata is not null;
        }
    }
}

/// <summary>What a limited endpoint does for the client limits: show the page (which may mint an identity) or take a vote.</summary>
public enum ClientLimitKind
{
    Page,
    Vote,
}

/// <summary>Marks an endpoint as limited per client (<see cref="ClientLimiter"/>).</summary>
public sealed record ClientLimitMetadata(ClientLimitKind Kind);

using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Configuration;
using Voting.ServiceDefaults.Edge;
using Voting.ServiceDefaults.Management;

namespace Voting.Results.Limits;

/// <summary>
/// The results app's limits per client address (<see cref="ResultsLimitsOptions"/>), with ASP.NET Core's rate limiting
/// middleware: two endpoint policies — receipt lookups (<see cref="ReceiptsPolicy"/>, a token bucket) and ballots.csv
/// downloads started (<see cref="DownloadsPolicy"/>, a token bucket) — and a global limiter that holds ballots.csv's
/// downloads in progress (a concurrency limit) and the general bucket of every other public request. A refused request
/// is answered 429 with <c>Retry-After</c> and <c>{"error": ..., "limit": ...}</c> (<see cref="LimitRefusal"/>).
/// </summary>
/// <remarks>
/// The middleware asks the global limiter first and the endpoint's policy second, and asks both again when either
/// refused. So that no request takes a token twice, a token bucket is only ever the one limiter that can refuse it: a
/// lookup's global partition is none, and a download's is the concurrency limit, whose permit comes back when it is
/// released; an empty bucket asked again takes nothing.
/// </remarks>
public static class ResultsLimitsExtensions
{
    public const string ReceiptsPolicy = "receipts";
    public const string DownloadsPolicy = "downloads";

    public static IHostApplicationBuilder AddResultsLimits(this IHostApplicationBuilder builder)
    {
        const string Section = ResultsLimitsOptions.SectionName;
        builder.Services.AddOptions<ResultsLimitsOptions>()
            .BindConfiguration(Section)
            .ValidateTokenBucket(Section + ":Receipts", o => o.Receipts)
            .ValidateTokenBucket(Section + ":Downloads", o => o.Downloads)
            .ValidateTokenBucket(Section + ":General", o => o.General)
            .Validate(o => o.ConcurrentDownloads is >= 1 and <= 1000,
                SettingsValidation.Invalid(Section + ":ConcurrentDownloads", "must be a whole number from 1 to 1000 (ballots.csv downloads in progress at once per client address)."))
            .ValidateOnStart();
        builder.Services.AddSingleton<LimitRefusal>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>()
            .Configure<IOptions<ResultsLimitsOptions>, ManagementOptions, LimitRefusal>((options, limits, management, refusal) =>
            {
                options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                options.AddPolicy<UInt128>(ReceiptsPolicy, new BucketPolicy(limits.Value.Receipts.ToLimiterOptions(), LimitRefusal.Receipts, management, refusal));
                options.AddPolicy<UInt128>(DownloadsPolicy, new BucketPolicy(limits.Value.Downloads.ToLimiterOptions(), LimitRefusal.Downloads, management, refusal));
                options.GlobalLimiter = GlobalLimiter(limits.Value, management);
                // The global limiter's refusals: a download's is its concurrency limit's, any other request's the general bucket's.
                options.OnRejected = (rejected, cancellationToken) => refusal.WriteAsync(
                    rejected, PolicyOf(rejected.HttpContext) == DownloadsPolicy ? LimitRefusal.ConcurrentDownloads : LimitRefusal.General, cancellationToken);
            });
        return builder;
    }

    /// <summary>After the forwarded headers (the limits key on the client's address, not the balancer's) and before the files and endpoints.</summary>
    public static WebApplication UseResultsLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }

    private static string? PolicyOf(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName;

    private static PartitionedRateLimiter<HttpContext> GlobalLimiter(ResultsLimitsOptions limits, ManagementOptions management)
    {
        var general = limits.General.ToLimiterOptions();
        var concurrency = new ConcurrencyLimiterOptions { PermitLimit = limits.ConcurrentDownloads, QueueLimit = 0 };
        // One partition per limit and address; the partitioned limiter drops those idle for a while.
        return PartitionedRateLimiter.Create<HttpContext, GlobalKey>(context =>
        {
            if (management.IsOutsideTheEdge(context))
            {
                return RateLimitPartition.GetNoLimiter(GlobalKey.None);
            }

            var address = ClientAddress.Key(context.Connection.RemoteIpAddress);
            return PolicyOf(context) switch
            {
                ReceiptsPolicy => RateLimitPartition.GetNoLimiter(GlobalKey.None),
                DownloadsPolicy => RateLimitPartition.GetConcurrencyLimiter(new GlobalKey(GlobalLimit.ConcurrentDownloads, address), _ => concurrency),
                _ => RateLimitPartition.GetTokenBucketLimiter(new GlobalKey(GlobalLimit.General, address), _ => general),
            };
        });
    }

    private enum GlobalLimit
    {
        None,
        General,
        ConcurrentDownloads,
    }

    private readonly record struct GlobalKey(GlobalLimit Limit, UInt128 Address)
    {
        public static readonly GlobalKey None = new(GlobalLimit.None, 0);
    }

    /// <summary>An endpoint's token bucket per client address, answering its own refusals as <paramref name="limit"/>.</summary>
    private sealed class BucketPolicy(TokenBucketRateLimiterOptions bucket, string limit, ManagementOptions management, LimitRefusal refusal)
        : IRateLimiterPolicy<UInt128>
    {
        // A partition key no client address has (ClientAddress keys an unknown address as UInt128.MaxValue).
        private static readonly UInt128 Exempt = UInt128.MaxValue - 1;

        public Func<OnRejectedContext, CancellationToken, ValueTask> OnRejected => (rejected, cancellationToken) =>
            refusal.WriteAsync(rejected, limit, cancellationToken);

        public RateLimitPartition<UInt128> GetPartition(HttpContext httpContext) => management.IsOutsideTheEdge(httpContext)
            ? RateLimitPartition.GetNoLimiter(Exempt)
            : RateLimitPartition.GetTokenBucketLimiter(ClientAddress.Key(httpContext.Connection.RemoteIpAddress), _ => bucket);
    }
}

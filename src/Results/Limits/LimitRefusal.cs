using System.Diagnostics.Metrics;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Voting.Results.Pipeline;
using Voting.Results.Tallies;

namespace Voting.Results.Limits;

/// <summary>A request refused by a limit per client address (429): what was limited and when to ask again, and the limit's name.</summary>
public sealed record LimitRefused(string Error, string Limit);

/// <summary>
/// Answers a request a limit refused: 429, <c>Retry-After</c> in whole seconds (when the bucket has a permit again;
/// <see cref="ConcurrencyRetryAfter"/> for a download refused because two are in progress), and a
/// <see cref="LimitRefused"/> body, the shape of the receipts API's errors. Counts each refusal (meter
/// <c>Voting.Results</c>, <c>voting_results_requests_limited_total</c>, by limit).
/// </summary>
public sealed class LimitRefusal
{
    public const string Receipts = "receipts";
    public const string Downloads = "downloads";
    public const string ConcurrentDownloads = "concurrent-downloads";
    public const string General = "general";

    /// <summary>How long a download refused for the ones in progress is told to wait: a concurrency limit knows no time.</summary>
    public static readonly TimeSpan ConcurrencyRetryAfter = TimeSpan.FromSeconds(10);

    private readonly Counter<long> _limited;

    public LimitRefusal(IMeterFactory meters) => _limited = meters.Create(PipelineFeed.MeterName).CreateCounter<long>(
        "voting.results.requests.limited", unit: "{request}",
        description: "Requests answered 429 by a limit per client address, by limit (receipts, downloads, concurrent-downloads or general).");

    public async ValueTask WriteAsync(OnRejectedContext rejected, string limit, CancellationToken cancellationToken)
    {
        _limited.Add(1, new KeyValuePair<string, object?>("limit", limit));
        var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : ConcurrencyRetryAfter;
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        var after = string.Create(CultureInfo.InvariantCulture, $"{seconds} s");
        var why = limit switch
        {
            Receipts => "Too many receipt lookups have come from your network in a short time",
            Downloads => "Too many downloads of ballots.csv have come from your network in a short time",
            ConcurrentDownloads => "Your network is already downloading ballots.csv as many times at once as it may",
            _ => "Too many requests have come from your network in a short time",
        };

        var response = rejected.HttpContext.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        response.Headers.CacheControl = "no-store";
        await response.WriteAsJsonAsync(
            new LimitRefused($"{why}. Please try again in {after}.", limit), ResultsJsonContext.Default.LimitRefused, contentType: null, cancellationToken);
    }
}

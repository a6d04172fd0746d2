using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Configuration;
using Voting.Web.Frontend;
using Voting.Web.Voting;

namespace Voting.Web.Overload;

/// <summary>
/// Load shedding with ASP.NET Core's rate limiting middleware: the vote page and the vote endpoints
/// (<see cref="RequireVotingAdmission{TBuilder}"/>) share one <see cref="ConcurrencyLimiter"/> with a bounded queue
/// (<see cref="OverloadOptions"/>). A request that finds no place is answered at once with 503, <c>Retry-After</c> and a
/// body saying that the front end is busy and the vote was not recorded — a balancer sends it to another front end.
/// Health, metrics and every other endpoint are never limited: a busy front end must still say how it is.
/// </summary>
public static class OverloadProtection
{
    public const string PolicyName = "voting-admission";

    public static IHostApplicationBuilder AddVotingOverloadProtection(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<OverloadOptions>()
            .BindConfiguration(OverloadOptions.SectionName)
            .Validate(o => o.ConcurrencyLimit is >= 1 and <= 100_000,
                SettingsValidation.Invalid("Overload:ConcurrencyLimit", "must be a whole number from 1 to 100000 (requests handled at once)."))
            .Validate(o => o.QueueLimit is >= 0 and <= 1_000_000,
                SettingsValidation.Invalid("Overload:QueueLimit", "must be a whole number from 0 to 1000000 (requests waiting for a place)."))
            .Validate(o => o.RedisMemoryNotReadyFraction is > 0 and <= 1,
                SettingsValidation.Invalid("Overload:RedisMemoryNotReadyFraction", "must be above 0 and at most 1 (e.g. 0.9: not ready above 90 % of Redis' maxmemory)."))
            .ValidateOnStart();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            limiter.AddPolicy<string, AdmissionPolicy>(PolicyName);
        });
        return builder;
    }

    public static WebApplication UseVotingOverloadProtection(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Puts the endpoint under the front end's shared concurrency limit.</summary>
    public static TBuilder RequireVotingAdmission<TBuilder>(this TBuilder endpoint)
        where TBuilder : IEndpointConventionBuilder => endpoint.RequireRateLimiting(PolicyName);

    /// <summary>One limiter for every admitted endpoint (a constant partition key), sized from <see cref="OverloadOptions"/>.</summary>
    private sealed class AdmissionPolicy : IRateLimiterPolicy<string>
    {
        private const string Partition = "frontend";
        private readonly Func<string, ConcurrencyLimiterOptions> _limiterOptions;
        private readonly string _retryAfter;
        private readonly VotePage _page;

        public AdmissionPolicy(IOptions<OverloadOptions> overload, IOptions<FrontendOptions> frontend, VotePage page)
        {
            var limits = new ConcurrencyLimiterOptions
            {
                PermitLimit = overload.Value.ConcurrencyLimit,
                QueueLimit = overload.Value.QueueLimit,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            };
            _limiterOptions = _ => limits;
            _retryAfter = ((int)Math.Ceiling(frontend.Value.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            _page = page;
            OnRejected = RejectAsync;
        }

        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; }

        public RateLimitPartition<string> GetPartition(HttpContext httpContext) => RateLimitPartition.GetConcurrencyLimiter(Partition, _limiterOptions);

        private async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
        {
            var context = rejected.HttpContext;
            var request = context.Request;
            context.Response.Headers.RetryAfter = _retryAfter;
            if (HttpMethods.IsGet(request.Method))
            {
                VoteMetrics.RecordShed(VoteMetrics.ShedPage);
                await TypedResults.Content(
                    _page.Render(null, VotePageNotice.Rejected, "This front end is busy right now. Please try again in a moment."),
                    "text/html; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
            }
            else if (request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
            {
                VoteMetrics.RecordShed(VoteMetrics.ShedJson);
                VoteMetrics.RecordRefused(StatusCodes.Status503ServiceUnavailable);
                await TypedResults.Problem(
                    detail: "The vote was not recorded: this front end is busy. Retry later.",
                    statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
            }
            else
            {
                VoteMetrics.RecordShed(VoteMetrics.ShedForm);
                VoteMetrics.RecordRefused(StatusCodes.Status503ServiceUnavailable);
                await TypedResults.Content(
                    _page.Render(null, VotePageNotice.NotRecorded, "this front end is busy right now. Please try again in a moment."),
                    "text/html; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
            }
        }
    }
}

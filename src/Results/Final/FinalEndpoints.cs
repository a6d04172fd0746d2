using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;
using Voting.Results.Limits;
using Voting.Results.Poll;
using Voting.Sealing.Export;

namespace Voting.Results.Final;

/// <summary>Why the published seal is not served now, as the API answers it (409; 503 while it loads).</summary>
public sealed record SealUnavailable(string Status, string Reason, DateTimeOffset? ReleaseAt);

/// <summary>
/// The published seal on the public port, once the poll is sealed and the results are released:
/// <c>GET /api/results/final</c> (the summary), its files <c>manifest.json</c>, <c>ballots.csv</c> and
/// <c>public-key.pem</c> (byte for byte what <c>./voting poll seal --out</c> writes; ballots.csv streamed, never held
/// whole) and <c>chart.svg</c>. Before either, 409 with the reason and the release time if known: the manifest
/// carries the tallies, so nothing of the seal is served during the embargo.
/// </summary>
public static class FinalEndpoints
{
    /// <summary>The chart is an image: no script, nothing fetched, styles only its own.</summary>
    private const string ChartSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";

    public static IEndpointRouteBuilder MapFinalResults(this IEndpointRouteBuilder endpoints)
    {
        var final = endpoints.MapGroup(FinalLinks.Base);
        final.MapGet("", (HttpContext context, SealFeed seals, PollFeed poll) =>
            Serve(context, seals, poll, published => TypedResults.Ok(published.Summary)));
        final.MapGet("/" + SealExport.ManifestFile, (HttpContext context, SealFeed seals, PollFeed poll) =>
            Serve(context, seals, poll, published => TypedResults.Bytes(published.Seal.ManifestBytes, "application/json")));
        final.MapGet("/" + SealExport.PublicKeyFile, (HttpContext context, SealFeed seals, PollFeed poll) =>
            Serve(context, seals, poll, published => TypedResults.Text(published.Seal.PublicKeyPem, "application/x-pem-file")));
        final.MapGet("/" + FinalLinks.ChartFile, (HttpContext context, SealFeed seals, PollFeed poll) =>
            Serve(context, seals, poll, published =>
            {
                context.Response.Headers.ContentSecurityPolicy = ChartSecurityPolicy;
                return TypedResults.Bytes(published.ChartSvg, "image/svg+xml");
            }));
        final.MapGet("/" + BallotsCsv.FileName, (HttpContext context, SealFeed seals, PollFeed poll) =>
            Serve(context, seals, poll, published =>
            {
                context.Response.Headers.ContentDisposition = "attachment; filename=" + BallotsCsv.FileName;
                return TypedResults.Stream(
                    body => BallotsCsv.WriteAsync(published.Seal.Ballots, body, context.RequestAborted), "text/csv; charset=utf-8");
            }))
            // Every ballot streamed: downloads per client address are limited at once and over time (Results:Limits).
            .RequireRateLimiting(ResultsLimitsExtensions.DownloadsPolicy);
        return endpoints;
    }

    /// <summary>
    /// The seal if the public may have it now; otherwise why not, as the answer to give: not sealed (409), being
    /// loaded or unreadable (503, ask again), under embargo (409).
    /// </summary>
    public static bool TryGet(
        SealFeed seals, PollFeed poll, HttpContext context,
        [NotNullWhen(true)] out PublishedSeal? published, [NotNullWhen(false)] out JsonHttpResult<SealUnavailable>? refusal)
    {
        context.Response.Headers.CacheControl = "no-store";
        var embargo = poll.Current();
        published = seals.Published;
        refusal = null;
        if (published is null)
        {
            var state = seals.State;
            if (state is SealFeedState.NotSealed)
            {
                refusal = Refuse(StatusCodes.Status409Conflict,
                    "The poll's count is not sealed yet: the final count, its files and receipts' proofs are published once it is sealed and the results are released.",
                    embargo);
                return false;
            }

            context.Response.Headers.RetryAfter = "5";
            refusal = Refuse(StatusCodes.Status503ServiceUnavailable, state is SealFeedState.Loading
                ? "The poll's seal is being loaded: ask again in a few seconds."
                : "The poll's seal cannot be read right now: ask again in a few seconds.", embargo);
            return false;
        }

        if (embargo.Withheld)
        {
            published = null;
            refusal = Refuse(StatusCodes.Status409Conflict, embargo.Sentence, embargo);
            return false;
        }

        return true;
    }

    private static IResult Serve(HttpContext context, SealFeed seals, PollFeed poll, Func<PublishedSeal, IResult> answer) =>
        TryGet(seals, poll, context, out var published, out var refusal) ? answer(published) : refusal;

    private static JsonHttpResult<SealUnavailable> Refuse(int statusCode, string reason, Embargo embargo) =>
        TypedResults.Json(new SealUnavailable("unavailable", reason, embargo.ReleaseAt), statusCode: statusCode);
}

using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Voting.Results.Final;
using Voting.Results.Pipeline;
using Voting.Results.Poll;
using Voting.ServiceDefaults.Management;
using Voting.ServiceDefaults.Voting;
using Voting.Storage.Postgres;

namespace Voting.Results.Tallies;

/// <summary>
/// The live results page (<c>/</c>, its stylesheet and script being static files), the JSON API
/// (<c>/api/results</c>, <c>/api/pipeline</c>) and the event stream behind the page (<c>/api/results/stream</c>).
/// While the results are under embargo (<see cref="PollFeed"/>) the public page, API and stream show no count, only
/// when the results will be announced; operators read the counts from <c>/api/results/live</c> and the pipeline from
/// <c>/api/pipeline</c> on the management port.
/// </summary>
public static class ResultsEndpoints
{
    private const string PageSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

    public static IEndpointRouteBuilder MapResultsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Read the page's template now: an application without its wwwroot fails at start-up, not on the first visit.
        endpoints.ServiceProvider.GetRequiredService<ResultsPage>();

        endpoints.MapGet("/", ShowPageAsync);
        endpoints.MapGet("/api/results", ReadAsync);
        endpoints.MapGet("/api/results/live", ReadLiveAsync).RequireManagement();
        endpoints.MapGet("/api/pipeline", ReadPipeline).RequireManagement().CacheOutput(PipelineCachePolicy.Name);
        endpoints.MapGet("/api/results/stream", (ResultsFeed results, PipelineFeed pipeline, PollFeed poll, CancellationToken cancellationToken) =>
            TypedResults.ServerSentEvents(ResultsEventStream.ReadAsync(results, pipeline, poll, cancellationToken)));
        return endpoints;
    }

    /// <summary>
    /// Each front end's waiting votes, the oldest one's wait, the drain rate, the silo draining it and its last error:
    /// the feed's latest snapshot (a management surface; the page shows its public view). Answers are cached for a
    /// moment, and a request never calls a grain: however many operators ask, the cluster is asked by the feed alone.
    /// </summary>
    private static Results<Ok<PipelineSnapshot>, ProblemHttpResult> ReadPipeline(HttpContext context, PipelineFeed pipeline)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (pipeline.Status.Latest is not { } snapshot)
        {
            context.Response.Headers.RetryAfter = "1";
            return TypedResults.Problem(detail: "The pipeline status has not been read yet.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (snapshot.Problem is { } problem)
        {
            context.Response.Headers.RetryAfter = "2";
            return TypedResults.Problem(detail: problem, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Ok(snapshot);
    }

    /// <summary>Exact counts, read from <c>tallies</c> for this request; under embargo, only when they will be announced.</summary>
    private static async Task<Results<Ok<ResultsSnapshot>, Ok<Embargo>, ProblemHttpResult>> ReadAsync(
        HttpContext context, TallyReader tallies, BallotOptions ballot, PollFeed poll, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (poll.Current() is { Withheld: true } embargo)
        {
            return TypedResults.Ok(embargo);
        }

        try
        {
            return TypedResults.Ok(ResultsSnapshot.Create(ballot, await tallies.ReadAsync(cancellationToken), timeProvider.GetUtcNow()));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return Unreadable(context);
        }
    }

    /// <summary>Exact counts, read from <c>tallies</c> for this request, embargo or not (a management surface).</summary>
    private static async Task<Results<Ok<ResultsSnapshot>, ProblemHttpResult>> ReadLiveAsync(
        HttpContext context, TallyReader tallies, BallotOptions ballot, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            return TypedResults.Ok(ResultsSnapshot.Create(ballot, await tallies.ReadAsync(cancellationToken), timeProvider.GetUtcNow()));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return Unreadable(context);
        }
    }

    private static ProblemHttpResult Unreadable(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "2";
        return TypedResults.Problem(detail: "The results cannot be read right now: PostgreSQL is unreachable.", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// The page with the counts read for this request, and the sealed count once there is one; 503 with the page saying
    /// so when PostgreSQL cannot be read. Under embargo, the page says when the results will be announced, and no count
    /// is read or shown, sealed or not.
    /// </summary>
    private static async Task<ContentHttpResult> ShowPageAsync(
        HttpContext context, ResultsPage page, TallyReader tallies, BallotOptions ballot, PollFeed poll, SealFeed seals, TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        context.Response.Headers.ContentSecurityPolicy = PageSecurityPolicy;
        context.Response.Headers.CacheControl = "no-store";
        if (poll.Current() is { Withheld: true } embargo)
        {
            return TypedResults.Content(page.RenderEmbargoed(ballot, embargo), "text/html; charset=utf-8");
        }

        try
        {
            var snapshot = ResultsSnapshot.Create(ballot, await tallies.ReadAsync(cancellationToken), timeProvider.GetUtcNow());
            return TypedResults.Content(page.Render(ballot, snapshot, seals.Published?.Summary), "text/html; charset=utf-8");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            context.Response.Headers.RetryAfter = "2";
            return TypedResults.Content(page.Render(ballot, null, seals.Published?.Summary), "text/html; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}

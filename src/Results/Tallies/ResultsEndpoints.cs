using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Voting.Results.Pipeline;
using Voting.ServiceDefaults.Management;
using Voting.ServiceDefaults.Voting;
using Voting.Storage.Postgres;

namespace Voting.Results.Tallies;

/// <summary>
/// The live results page (<c>/</c>, its stylesheet and script being static files), the JSON API
/// (<c>/api/results</c>, <c>/api/pipeline</c>) and the event stream behind the page (<c>/api/results/stream</c>).
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
        endpoints.MapGet("/api/pipeline", ReadPipeline).RequireManagement().CacheOutput(PipelineCachePolicy.Name);
        endpoints.MapGet("/api/results/stream", (ResultsFeed results, PipelineFeed pipeline, CancellationToken cancellationToken) =>
            TypedResults.ServerSentEvents(ResultsEventStream.ReadAsync(results, pipeline, cancellationToken)));
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

    /// <summary>Exact counts, read from <c>tallies</c> for this request.</summary>
    private static async Task<Results<Ok<ResultsSnapshot>, ProblemHttpResult>> ReadAsync(
        HttpContext context, TallyReader tallies, BallotOptions ballot, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            return TypedResults.Ok(ResultsSnapshot.Create(ballot, await tallies.ReadAsync(cancellationToken), timeProvider.GetUtcNow()));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            context.Response.Headers.RetryAfter = "2";
            return TypedResults.Problem(detail: "The results cannot be read right now: PostgreSQL is unreachable.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>The page with the counts read for this request; 503 with the page saying so when PostgreSQL cannot be read.</summary>
    private static async Task<ContentHttpResult> ShowPageAsync(
        HttpContext context, ResultsPage page, TallyReader tallies, BallotOptions ballot, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        context.Response.Headers.ContentSecurityPolicy = PageSecurityPolicy;
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            var snapshot = ResultsSnapshot.Create(ballot, await tallies.ReadAsync(cancellationToken), timeProvider.GetUtcNow());
            return TypedResults.Content(page.Render(ballot, snapshot), "text/html; charset=utf-8");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            context.Response.Headers.RetryAfter = "2";
            return TypedResults.Content(page.Render(ballot, null), "text/html; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}

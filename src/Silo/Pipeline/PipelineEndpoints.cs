using Microsoft.AspNetCore.Http.HttpResults;
using Voting.Grains;

namespace Voting.Silo.Pipeline;

public static class PipelineEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary><c>GET /api/drainers</c>: every registered front end's drainer, where it runs and what it has done.</summary>
    public static IEndpointRouteBuilder MapPipelineEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/drainers", ReadDrainersAsync);
        return endpoints;
    }

    private static async Task<Results<Ok<DrainerStatus[]>, ProblemHttpResult>> ReadDrainersAsync(IGrainFactory grains, HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            var frontends = await grains.GetFrontendRegistry().GetFrontendsAsync().WaitAsync(Timeout);
            var statuses = await Task.WhenAll(frontends.Select(f => grains.GetGrain<IQueueDrainerGrain>(f.FrontendId).GetStatusAsync())).WaitAsync(Timeout);
            return TypedResults.Ok(statuses);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            // A silo just died and the cluster has not caught up yet: say so, the caller may ask again.
            context.Response.Headers.RetryAfter = "1";
            return TypedResults.Problem(detail: "The drainers cannot be asked right now: " + e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}

using Microsoft.AspNetCore.Http.HttpResults;
using Voting.Grains;
using Voting.ServiceDefaults.Management;

namespace Voting.Silo.Pipeline;

public static class PipelineEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <c>GET /api/drainers</c>: every registered front end's drainer, where it runs and what it has done.
    /// <c>GET /api/frontends</c>: the registered front ends. <c>DELETE /api/frontends/{id}</c> (<c>?force=true</c>):
    /// retire a front end that is gone for good. Management surfaces: on the management port, with the management token.
    /// </summary>
    public static IEndpointRouteBuilder MapPipelineEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api").RequireManagement();
        api.MapGet("/drainers", ReadDrainersAsync);
        api.MapGet("/frontends", ReadFrontendsAsync);
        api.MapDelete("/frontends/{frontendId}", RetireFrontendAsync);
        return endpoints;
    }

    private static async Task<Results<Ok<FrontendInfo[]>, ProblemHttpResult>> ReadFrontendsAsync(IGrainFactory grains, HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            return TypedResults.Ok(await grains.GetFrontendRegistry().GetFrontendsAsync().WaitAsync(Timeout));
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            return Unavailable(context, "The front-end registry cannot be asked right now: " + e.Message);
        }
    }

    private static async Task<Results<Ok<FrontendRetirement>, ProblemHttpResult>> RetireFrontendAsync(
        string frontendId, IGrainFactory grains, HttpContext context, string? force = null)
    {
        var forced = false;
        if (force is not null && !bool.TryParse(force, out forced))
        {
            return TypedResults.Problem(detail: $"force must be true or false, not '{force}'.", statusCode: StatusCodes.Status400BadRequest);
        }

        try
        {
            var retirement = await grains.GetFrontendRegistry().RetireAsync(frontendId, forced).WaitAsync(Timeout);
            return retirement.Outcome switch
            {
                RetirementOutcome.Retired => TypedResults.Ok(retirement),
                RetirementOutcome.NotRegistered => TypedResults.Problem(detail: retirement.Detail, statusCode: StatusCodes.Status404NotFound),
                RetirementOutcome.VotesWaiting or RetirementOutcome.StillRunning => TypedResults.Problem(detail: retirement.Detail, statusCode: StatusCodes.Status409Conflict),
                _ => TypedResults.Problem(detail: retirement.Detail, statusCode: StatusCodes.Status503ServiceUnavailable),
            };
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            return Unavailable(context, "The front-end registry cannot be asked right now: " + e.Message);
        }
    }

    private static ProblemHttpResult Unavailable(HttpContext context, string detail)
    {
        context.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable);
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
            return Unavailable(context, "The drainers cannot be asked right now: " + e.Message);
        }
    }
}

using Microsoft.AspNetCore.Http.HttpResults;
using Voting.Grains;
using Voting.ServiceDefaults.Management;

namespace Voting.Silo.Poll;

public static class PollEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <c>GET /api/poll</c>: the schedule in effect, the phase now, the embargo and the server time.
    /// <c>POST /api/poll/open</c>, <c>/close</c>, <c>/release</c>: the operators' commands; 409 with the reason when the
    /// poll's phase does not allow one (nothing changes). Management surfaces: on the management port, with the token.
    /// </summary>
    public static IEndpointRouteBuilder MapPollEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var poll = endpoints.MapGroup("/api/poll").RequireManagement();
        poll.MapGet("", ReadAsync);
        poll.MapPost("/open", (IGrainFactory grains, HttpContext context) => CommandAsync(context, grains.GetPoll().OpenAsync()));
        poll.MapPost("/close", (IGrainFactory grains, HttpContext context) => CommandAsync(context, grains.GetPoll().CloseAsync()));
        poll.MapPost("/release", (IGrainFactory grains, HttpContext context) => CommandAsync(context, grains.GetPoll().ReleaseAsync()));
        return endpoints;
    }

    private static async Task<Results<Ok<PollStatus>, ProblemHttpResult>> ReadAsync(IGrainFactory grains, HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            return TypedResults.Ok(await grains.GetPoll().GetStatusAsync().WaitAsync(Timeout));
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            return Unavailable(context, "The poll cannot be asked right now: " + e.Message);
        }
    }

    private static async Task<Results<Ok<PollCommandResult>, ProblemHttpResult>> CommandAsync(HttpContext context, Task<PollCommandResult> command)
    {
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            var result = await command.WaitAsync(Timeout);
            return result.Done
                ? TypedResults.Ok(result)
                : TypedResults.Problem(detail: result.Detail, statusCode: StatusCodes.Status409Conflict);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            // A timed-out command may still have been carried out: GET /api/poll says.
            return Unavailable(context, "The poll cannot be reached right now (GET /api/poll says whether the command took effect): " + e.Message);
        }
    }

    private static ProblemHttpResult Unavailable(HttpContext context, string detail)
    {
        context.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

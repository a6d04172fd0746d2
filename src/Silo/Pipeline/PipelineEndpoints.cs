using Voting.Grains;

namespace Voting.Silo.Pipeline;

public static class PipelineEndpoints
{
    /// <summary><c>GET /api/drainers</c>: every registered front end's drainer, where it runs and what it has done.</summary>
    public static IEndpointRouteBuilder MapPipelineEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/drainers", async (IGrainFactory grains) =>
        {
            var frontends = await grains.GetFrontendRegistry().GetFrontendsAsync();
            var statuses = await Task.WhenAll(frontends.Select(f => grains.GetGrain<IQueueDrainerGrain>(f.FrontendId).GetStatusAsync()));
            return TypedResults.Ok(statuses);
        });
        return endpoints;
    }
}

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;

namespace Voting.ServiceDefaults.Management;

/// <summary>Marks an endpoint as a management surface: it matches only requests that arrived on the management port.</summary>
public sealed class ManagementEndpointMetadata
{
    public static readonly ManagementEndpointMetadata Instance = new();
}

/// <summary>Marks an endpoint that answers on every port (the health probes, which Swarm and the balancer use on the public one).</summary>
public sealed class AnyPortEndpointMetadata
{
    public static readonly AnyPortEndpointMetadata Instance = new();
}

/// <summary>
/// Routing by the port a request arrived on (the connection's local port, which a client cannot choose, unlike the
/// <c>Host</c> header that <c>RequireHost</c> matches): on a public port, management endpoints do not exist (404, or the
/// balancer's proxy route); on the management port, only management endpoints and the health probes do.
/// </summary>
internal sealed class ManagementPortPolicy(ManagementOptions management) : MatcherPolicy, IEndpointSelectorPolicy
{
    // After the framework's own policies (HTTP method, host), before the candidates are chosen.
    public override int Order => 1000;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => true;

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var onManagementPort = management.Ports.Contains(httpContext.Connection.LocalPort);
        for (var i = 0; i < candidates.Count; i++)
        {
            var metadata = candidates[i].Endpoint.Metadata;
            if (metadata.GetMetadata<AnyPortEndpointMetadata>() is not null)
            {
                continue;
            }

            if ((metadata.GetMetadata<ManagementEndpointMetadata>() is not null) != onManagementPort)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }
}

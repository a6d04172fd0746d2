using Microsoft.AspNetCore.RateLimiting;
using Voting.ServiceDefaults.Edge;

namespace Voting.Web.Abuse;

/// <summary>Registers the per-client limits (<see cref="ClientLimiter"/>) and marks the endpoints they apply to.</summary>
public static class ClientLimitsExtensions
{
    /// <summary>
    /// The limits, validated at start-up, as the rate limiting middleware's global limiter (its endpoint policy is the
    /// front end's concurrency limit). Needs <c>UseRateLimiter</c> after the forwarded headers, so that the limits
    /// key on the client's address, not the balancer's.
    /// </summary>
    public static IHostApplicationBuilder AddVotingClientLimits(this IHostApplicationBuilder builder)
    {
        var limits = builder.Services.AddOptions<ClientLimitsOptions>().BindConfiguration(ClientLimitsOptions.SectionName);
        foreach (var (name, bucket) in new (string, Func<ClientLimitsOptions, TokenBucketSettings>)[]
        {
            ("Identities", o => o.Identities), ("AddressVotes", o => o.AddressVotes), ("VoterVotes", o => o.VoterVotes),
        })
        {
            limits.ValidateTokenBucket($"{ClientLimitsOptions.SectionName}:{name}", bucket);
        }

        limits.ValidateOnStart();
        builder.Services.AddSingleton<ClientLimiter>();
        builder.Services.AddOptions<RateLimiterOptions>().Configure<ClientLimiter>((options, limiter) =>
        {
            options.GlobalLimiter = limiter;
            // Only for the global limiter's refusals: the concurrency policy answers its own (503).
            options.OnRejected = limiter.RejectAsync;
        });
        return builder;
    }

    /// <summary>Puts the endpoint under the per-client limits of <paramref name="kind"/>.</summary>
    public static TBuilder RequireClientLimits<TBuilder>(this TBuilder endpoint, ClientLimitKind kind)
        where TBuilder : IEndpointConventionBuilder => endpoint.WithMetadata(new ClientLimitMetadata(kind));
}

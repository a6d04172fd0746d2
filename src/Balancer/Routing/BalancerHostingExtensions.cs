using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Voting.Clustering;
using Voting.ServiceDefaults.Configuration;
using Voting.ServiceDefaults.Edge;
using Voting.ServiceDefaults.Health;
using Voting.ServiceDefaults.Management;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace Voting.Balancer.Routing;

public static class BalancerHostingExtensions
{
    /// <summary>
    /// The load balancer in front of the vote front ends: YARP, routing to the front ends the cluster's registry lists,
    /// over those that answer ready.
    /// </summary>
    public static IHostApplicationBuilder AddVotingBalancer(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<BalancerOptions>()
            .BindConfiguration(BalancerOptions.SectionName)
            .Validate(o => o.RefreshInterval > TimeSpan.Zero, SettingsValidation.Invalid("Balancer:RefreshInterval", "must be positive."))
            .Validate(o => o.HealthCheckInterval > TimeSpan.Zero, SettingsValidation.Invalid("Balancer:HealthCheckInterval", "must be positive."))
            .Validate(o => o.HealthCheckTimeout > TimeSpan.Zero, SettingsValidation.Invalid("Balancer:HealthCheckTimeout", "must be positive."))
            .Validate(o => o.HealthCheckFailures >= 1, SettingsValidation.Invalid("Balancer:HealthCheckFailures", "must be at least 1."))
            .Validate(o => o.ConnectTimeout > TimeSpan.Zero, SettingsValidation.Invalid("Balancer:ConnectTimeout", "must be positive."))
            .Validate(o => o.RequestTimeout > TimeSpan.Zero, SettingsValidation.Invalid("Balancer:RequestTimeout", "must be positive."))
            .Validate(o => o.MaxRequestBodyBytes is >= 1024 and <= 1024 * 1024, SettingsValidation.Invalid("Balancer:MaxRequestBodyBytes", "must be between 1024 and 1048576."))
            .Validate(o => o.MaxConnectionsPerFrontend is >= 1 and <= 100_000, SettingsValidation.Invalid("Balancer:MaxConnectionsPerFrontend", "must be between 1 and 100000."))
            .Validate(o => o.Frontends.Values.All(FrontendDirectory.IsUsableAddress),
                SettingsValidation.Invalid("Balancer:Frontends", "must map front-end ids to absolute http:// or https:// addresses, e.g. Balancer__Frontends__frontend01=http://frontend01:8080/."))
            .ValidateOnStart();
        services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<BalancerOptions>>((kestrel, balancer) => kestrel.Limits.MaxRequestBodySize = balancer.Value.MaxRequestBodyBytes);
        // A public edge: header and keep-alive timeouts, a connection limit, a minimum body rate (Edge:Limits); and
        // HTTPS with HSTS and the plain port redirecting, when Edge:Tls names a certificate.
        builder.AddVotingEdgeLimits();
        builder.AddVotingEdgeTls();

        // The client's address, from a trusted hop in front (a CDN; the load tool locally) or the connection itself.
        // YARP's default X-Forwarded-For transform then *sets* the header to that address (it does not append to
        // what the client sent): the front ends, which trust the balancer, key their rate limits on it, and a client
        // from an untrusted address cannot put another address in front of its own.
        builder.AddVotingForwardedHeaders();
        builder.AddVotingClusterClient(readiness: false);
        services.TryAddSingleton(TimeProvider.System);
        // The configured front ends until the registry is read; FrontendDirectory keeps the list from then on.
        var configured = builder.Configuration.GetSection(BalancerOptions.SectionName).Get<BalancerOptions>() ?? new BalancerOptions();
        services.AddReverseProxy()
            .AddTransforms(transforms => transforms.AddResponseTransform(Failover.HoldBackRefusal))
            .LoadFromMemory(
            [FrontendDirectory.Route],
            [FrontendDirectory.Cluster(configured.Frontends.Where(f => FrontendDirectory.IsUsableAddress(f.Value)).ToDictionary(), configured)]);
        services.AddSingleton<IForwarderHttpClientFactory, BalancerHttpClientFactory>();
        services.AddSingleton<Failover>();
        services.AddSingleton<FrontendDirectory>();
        services.AddHostedService(provider => provider.GetRequiredService<FrontendDirectory>());
        services.AddHealthChecks().AddCheck<FrontendsHealthCheck>("frontends", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }

    /// <summary>
    /// The proxy (every path but the balancer's own) and <c>GET /balancer/frontends</c>, a management surface (it
    /// names the front ends' internal addresses): on the management port, with the management token.
    /// </summary>
    public static WebApplication MapVotingBalancer(this WebApplication app)
    {
        var failover = app.Services.GetRequiredService<Failover>();
        app.UseVotingForwardedHeaders();
        app.UseVotingEdgeTls();
        app.MapReverseProxy(proxy =>
        {
            proxy.Use(failover.InvokeAsync);
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        app.MapGet("/balancer/frontends", (IProxyStateLookup state, FrontendDirectory directory) =>
            TypedResults.Ok(Status(state, directory))).RequireManagement();
        return app;
    }

    /// <summary>Each front end the balancer routes to, and what its health checks say.</summary>
    public static BalancerStatus Status(IProxyStateLookup state, FrontendDirectory directory)
    {
        var frontends = new List<FrontendRoute>();
        if (state.TryGetCluster(FrontendDirectory.ClusterId, out var cluster))
        {
            var available = cluster.DestinationsState.AvailableDestinations.ToHashSet();
            frontends.AddRange(cluster.Destinations.Values
                .OrderBy(d => d.DestinationId, StringComparer.Ordinal)
                .Select(d => new FrontendRoute(
                    d.DestinationId, d.Model.Config.Address, d.Health.Active.ToString(), d.Health.Passive.ToString(), available.Contains(d))));
        }

        var (readAt, problem) = directory.LastRead;
        return new BalancerStatus(frontends, readAt, problem);
    }

    /// <summary>Ready while at least one front end can take a vote.</summary>
    private sealed class FrontendsHealthCheck(IProxyStateLookup state, FrontendDirectory directory) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var status = Status(state, directory);
            var available = status.Frontends.Count(f => f.Available);
            return Task.FromResult(available > 0
                ? HealthCheckResult.Healthy($"{available} of {status.Frontends.Count} front end(s) can take votes.")
                : HealthCheckResult.Unhealthy(status.Frontends.Count == 0
                    ? "No front end is known yet. " + (status.Problem ?? "None is registered.")
                    : $"None of the {status.Frontends.Count} known front end(s) answers ready."));
        }
    }
}

/// <param name="Frontends">The front ends routed to.</param>
/// <param name="RegistryReadAt">When the list was last read from the cluster's registry.</param>
/// <param name="Problem">Why the latest read failed, if it did (the last list is kept meanwhile).</param>
public sealed record BalancerStatus(IReadOnlyList<FrontendRoute> Frontends, DateTimeOffset? RegistryReadAt, string? Problem);

/// <param name="Id">The front end's id.</param>
/// <param name="Address">Where it is reached.</param>
/// <param name="Active">Its readiness checks: Unknown, Healthy or Unhealthy.</param>
/// <param name="Passive">Its recent requests: Unknown, Healthy or Unhealthy.</param>
/// <param name="Available">Whether votes are sent to it now.</param>
public sealed record FrontendRoute(string Id, string Address, string Active, string Passive, bool Available);

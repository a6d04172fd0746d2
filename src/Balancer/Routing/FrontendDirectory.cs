using System.Collections.Frozen;
using Microsoft.Extensions.Options;
using Voting.Clustering;
using Voting.Grains;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Voting.Balancer.Routing;

/// <summary>
/// Keeps the proxy's destinations equal to the front ends registered with the cluster: a new web+Redis pair is routed
/// to as soon as it registers and answers ready, with no configuration here. While the registry cannot be read (no
/// worker silo up, say) the last list stays: front ends take votes without the worker tier, and so does the balancer.
/// </summary>
public sealed partial class FrontendDirectory(
    ClusterClientConnection cluster,
    InMemoryConfigProvider proxyConfig,
    IOptions<BalancerOptions> options,
    TimeProvider timeProvider,
    ILogger<FrontendDirectory> logger) : BackgroundService
{
    public const string ClusterId = "frontends";
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private FrozenDictionary<string, string> _destinations = options.Value.Frontends.ToFrozenDictionary(StringComparer.Ordinal);
    private bool _failing;

    /// <summary>When the registry was last read, and why the latest attempt failed if it did.</summary>
    public RegistryRead LastRead { get; private set; } = new(null, "The registry has not been read yet.");

    /// <summary>The route every request takes: all of them go to a front end.</summary>
    public static RouteConfig Route { get; } = new()
    {
        RouteId = "votes",
        ClusterId = ClusterId,
        Match = new RouteMatch { Path = "{**catch-all}" },
    };

    /// <summary>The front ends as one YARP cluster, with active (readiness) and passive (failed requests) health checks.</summary>
    public static ClusterConfig Cluster(IReadOnlyDictionary<string, string> destinations, BalancerOptions options) => new()
    {
        ClusterId = ClusterId,
        LoadBalancingPolicy = LoadBalancingPolicies.PowerOfTwoChoices,
        HealthCheck = new HealthCheckConfig
        {
            Active = new ActiveHealthCheckConfig
            {
                Enabled = true,
                Interval = options.HealthCheckInterval,
                Timeout = options.HealthCheckTimeout,
                Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                Path = "/health/ready",
            },
            Passive = new PassiveHealthCheckConfig
            {
                Enabled = true,
                Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                ReactivationPeriod = options.ReactivationPeriod,
            },
            // A front end not checked yet may take votes; one found unready may not.
            AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
        },
        HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { ActivityTimeout = options.RequestTimeout },
        HttpClient = new HttpClientConfig { MaxConnectionsPerServer = options.MaxConnectionsPerFrontend },
        Metadata = new Dictionary<string, string>
        {
            [ConsecutiveFailuresHealthPolicyOptions.ThresholdMetadataName] = options.HealthCheckFailures.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        Destinations = destinations.ToDictionary(d => d.Key, d => new DestinationConfig { Address = d.Value }),
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, timeProvider);
        do
        {
            await RefreshAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Reads the registry once and, if the front ends changed, gives the proxy the new list.</summary>
    private async Task RefreshAsync(CancellationToken stoppingToken)
    {
        if (cluster.Client is not { } grains)
        {
            Failed("Not connected to the Orleans cluster yet.");
            return;
        }

        FrontendInfo[] frontends;
        try
        {
            frontends = await grains.GetFrontendRegistry().GetFrontendsAsync().WaitAsync(CallTimeout, stoppingToken);
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // Whatever the cluster throws (a storage error while the registry re-activates, a serializer error during
            // an upgrade), the balancer goes on routing to the front ends it knows.
            Failed("The front-end registry cannot be read: " + exception.Message);
            return;
        }

        if (_failing)
        {
            LogRegistryReadAgain(logger);
            _failing = false;
        }

        LastRead = new RegistryRead(timeProvider.GetUtcNow(), null);
        var registered = frontends.Where(f => f.HttpEndpoint is not null && IsUsableAddress(f.HttpEndpoint)).ToArray();
        var destinations = options.Value.Frontends
            .ExceptBy(registered.Select(f => f.FrontendId), f => f.Key)
            .Concat(registered.Select(f => KeyValuePair.Create(f.FrontendId, f.HttpEndpoint!)))
            .ToFrozenDictionary(StringComparer.Ordinal);
        if (SameDestinations(destinations, _destinations))
        {
            return;
        }

        foreach (var (id, address) in destinations.Where(d => !_destinations.TryGetValue(d.Key, out var known) || known != d.Value))
        {
            LogFrontendAdded(logger, id, address);
        }

        foreach (var id in _destinations.Keys.Where(id => !destinations.ContainsKey(id)))
        {
            LogFrontendRemoved(logger, id);
        }

        _destinations = destinations;
        proxyConfig.Update([Route], [Cluster(destinations, options.Value)]);
    }

    private void Failed(string problem)
    {
        LastRead = LastRead with { Problem = problem };
        if (!_failing)
        {
            LogRegistryUnreadable(logger, problem, _destinations.Count);
            _failing = true;
        }
    }

    /// <summary>An absolute http(s) address a front end can be reached at.</summary>
    public static bool IsUsableAddress(string address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    private static bool SameDestinations(FrozenDictionary<string, string> a, FrozenDictionary<string, string> b) =>
        a.Count == b.Count && a.All(d => b.TryGetValue(d.Key, out var address) && address == d.Value);

    [LoggerMessage(1, LogLevel.Information, "Front end {FrontendId} at {Address} is routed to")]
    private static partial void LogFrontendAdded(ILogger logger, string frontendId, string address);

    [LoggerMessage(2, LogLevel.Information, "Front end {FrontendId} is no longer registered and no longer routed to")]
    private static partial void LogFrontendRemoved(ILogger logger, string frontendId);

    [LoggerMessage(3, LogLevel.Warning, "{Problem} Routing to the {Count} front end(s) last registered meanwhile")]
    private static partial void LogRegistryUnreadable(ILogger logger, string problem, int count);

    [LoggerMessage(4, LogLevel.Information, "The front-end registry can be read again")]
    private static partial void LogRegistryReadAgain(ILogger logger);
}

/// <summary>When the registry was last read, and why the latest attempt failed if it did (one reference, read whole).</summary>
public sealed record RegistryRead(DateTimeOffset? ReadAt, string? Problem);

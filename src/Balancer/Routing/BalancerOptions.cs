namespace Voting.Balancer.Routing;

/// <summary>How the balancer finds the front ends and decides which of them can take a vote (section <c>Balancer</c>).</summary>
public sealed class BalancerOptions
{
    public const string SectionName = "Balancer";

    /// <summary>
    /// Front ends routed to besides those the registry lists (id → address, e.g. <c>Balancer:Frontends:frontend01</c>
    /// = <c>http://frontend01:8080/</c>). Optional: it lets a balancer that starts while no worker silo is up — so the
    /// registry cannot be read — route votes anyway, as the front ends take them without the worker tier. Where the
    /// registry lists the same id, the registry's address wins.
    /// </summary>
    public Dictionary<string, string> Frontends { get; set; } = [];

    /// <summary>How often the front-end list is read from the cluster's registry.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often each front end's <c>/health/ready</c> is asked.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A readiness answer slower than this counts as a failure.</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Consecutive failed readiness checks that take a front end out of the rotation.</summary>
    public int HealthCheckFailures { get; set; } = 2;

    /// <summary>A front end that cannot be connected to within this is skipped for another.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A front end silent for this long while it answers a request fails that request (with a 503).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a front end taken out for failing requests stays out before it is tried again.</summary>
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Largest request body passed on (a vote is a few dozen bytes; a larger body is answered 413); bodies are kept in
    /// memory so a refused connection can be retried elsewhere.
    /// </summary>
    public int MaxRequestBodyBytes { get; set; } = 4 * 1024;

    /// <summary>
    /// The most connections open to one front end at a time; requests beyond them wait for one to be free (YARP's
    /// <c>MaxConnectionsPerServer</c>). A crowd at the edge then cannot open a connection per client on the front ends,
    /// whose own concurrency limit answers the excess 503.
    /// </summary>
    public int MaxConnectionsPerFrontend { get; set; } = 256;

    /// <summary>The <c>Retry-After</c> sent with a 503.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(2);
}

using System.Globalization;

namespace Voting.Testing;

/// <summary>
/// Starts the applications as <c>./voting up</c> does — PostgreSQL membership, reminders and grain state, every
/// silo on loopback — with test-friendly timings. Settings passed to a start method override the defaults.
/// </summary>
public sealed class VotingApps(string connectionString, string logDirectory)
{
    /// <summary>The voter-cookie key every front end of a test system shares.</summary>
    public static readonly string SigningKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    public string ConnectionString => connectionString;

    public AppProcess StartWorker(string name, IReadOnlyDictionary<string, string?>? overrides = null) =>
        AppProcess.Start(name, "Silo", "Voting.Silo", With(Cluster(gateway: true), new Dictionary<string, string?>
        {
            ["Postgres__ConnectionString"] = connectionString,
            ["Draining__PollInterval"] = "00:00:00.050",
        }, overrides), logDirectory);

    public AppProcess StartWeb(string name, string redisEndpoint, IReadOnlyDictionary<string, string?>? overrides = null) =>
        AppProcess.Start(name, "Web", "Voting.Web", With(Cluster(gateway: false), new Dictionary<string, string?>
        {
            ["Frontend__Id"] = name,
            ["Frontend__Redis"] = redisEndpoint,
            ["VoterCookie__SigningKey"] = SigningKey,
        }, overrides), logDirectory);

    public AppProcess StartResults(string name, IReadOnlyDictionary<string, string?>? overrides = null) =>
        AppProcess.Start(name, "Results", "Voting.Results", With(new Dictionary<string, string?>
        {
            ["Postgres__ConnectionString"] = connectionString,
            ["Clustering__Provider"] = "AdoNet",
            ["Clustering__ConnectionString"] = connectionString,
            ["Results__RefreshInterval"] = "00:00:00.200",
            ["Results__PipelineRefreshInterval"] = "00:00:00.500",
        }, overrides), logDirectory);

    /// <summary>The load balancer, an Orleans client that routes to the front ends the registry lists, checked every half second.</summary>
    public AppProcess StartBalancer(string name, IReadOnlyDictionary<string, string?>? overrides = null) =>
        AppProcess.Start(name, "Balancer", "Voting.Balancer", With(new Dictionary<string, string?>
        {
            ["Clustering__Provider"] = "AdoNet",
            ["Clustering__ConnectionString"] = connectionString,
            ["Balancer__RefreshInterval"] = "00:00:00.500",
            ["Balancer__HealthCheckInterval"] = "00:00:00.500",
        }, overrides), logDirectory);

    private Dictionary<string, string?> Cluster(bool gateway) => new()
    {
        ["Clustering__Provider"] = "AdoNet",
        ["Clustering__ConnectionString"] = connectionString,
        ["Clustering__SiloPort"] = Port(FreePort.Next()),
        ["Clustering__GatewayPort"] = gateway ? Port(FreePort.Next()) : "0",
    };

    private static Dictionary<string, string?> With(params IReadOnlyDictionary<string, string?>?[] layers)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var layer in layers)
        {
            foreach (var (key, value) in layer ?? new Dictionary<string, string?>())
            {
                settings[key] = value;
            }
        }

        return settings;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

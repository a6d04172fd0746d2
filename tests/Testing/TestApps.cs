using Voting.Local.Applications;
using Voting.Local.Sealing;
using Voting.Local.Tls;
using Voting.Local.Servers;

namespace Voting.Testing;

/// <summary>The applications as <c>./voting up</c> starts them, with timings that keep the tests short.</summary>
public static class TestApps
{
    /// <summary>The voter-cookie key every front end of a test system shares.</summary>
    public static readonly string SigningKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    /// <summary>The management token every application of a test system requires on its management port.</summary>
    public static readonly string ManagementToken = "test-management-token-" + new string('m', 32);

    /// <summary>The ACL users of every test Redis (<see cref="TestServers.StartRedisAsync"/>) and the applications' credentials.</summary>
    public static readonly RedisAccounts RedisAccounts = new(
        new RedisCredential(RedisAccounts.FrontendUser, "test-frontend-password-" + new string('f', 24)),
        new RedisCredential(RedisAccounts.DrainerUser, "test-drainer-password-" + new string('d', 24)),
        new RedisCredential(RedisAccounts.OperatorUser, "test-operator-password-" + new string('o', 24)));

    /// <summary>The login roles of every test PostgreSQL (<see cref="TestServers"/>), with which the applications connect.</summary>
    public static readonly PostgresRoles PostgresRoles = new(
        "test-owner-password", "test-worker-password", "test-web-password", "test-results-password", "test-balancer-password");

    /// <summary>A client of the applications' management ports, with <see cref="ManagementToken"/>.</summary>
    public static HttpClient ManagementClient(TimeSpan? timeout = null) => Local.Applications.ManagementToken.Client(ManagementToken, timeout);

    /// <summary>The certificate of every test system's cluster (mutual TLS between silos and clients, as in production).</summary>
    public static ClusterCertificate ClusterCertificate => Certificate.Value;

    /// <summary>The poll's sealing secrets every test system's workers get (one pair per test run).</summary>
    public static PollSecrets Sealing => SealingSecrets.Value;

    private static readonly Lazy<PollSecrets> SealingSecrets = new(() => PollSecrets.ReadOrCreate(TestDirectories.Create("poll-secrets")));

    private static readonly Lazy<ClusterCertificate> Certificate = new(() => ClusterCertificate.ReadOrCreate(TestDirectories.Create("cluster-tls")));

    /// <summary>Drainers look for votes every 50 ms, results and the balancer refresh within half a second.</summary>
    public static readonly IReadOnlyDictionary<string, string?> QuickTimings = new Dictionary<string, string?>
    {
        ["Draining__PollInterval"] = "00:00:00.050",
        ["Results__RefreshInterval"] = "00:00:00.200",
        ["Results__PipelineRefreshInterval"] = "00:00:00.500",
        ["Balancer__RefreshInterval"] = "00:00:00.500",
        ["Balancer__HealthCheckInterval"] = "00:00:00.500",
    };

    public static VotingApps Create(string connectionString, string logDirectory) =>
        new(connectionString, logDirectory, SigningKey)
        {
            Settings = QuickTimings,
            ManagementToken = ManagementToken,
            ClusterCertificate = ClusterCertificate,
            Sealing = Sealing,
            Redis = RedisAccounts,
            Roles = PostgresRoles,
        };
}

using System.Globalization;
using Voting.Local.Tls;
using Voting.Local.Sealing;
using Voting.Local.Servers;

namespace Voting.Local.Applications;

/// <summary>
/// The settings each application of Voting.Orleans gets on one machine — what <c>./voting up</c> runs and the tests
/// start — every silo on loopback, all of them in one cluster. Settings passed to a start method override the
/// defaults; <see cref="Settings"/> go to every application.
/// </summary>
/// <param name="connectionString">
/// The votes database, also the ADO.NET membership table's, as the operator (the superuser) reaches it; with
/// <see cref="VotingApps.Roles"/> each application gets it as its own role instead.
/// </param>
/// <param name="logDirectory">Where each process's log goes: <c>{name}.log</c>.</param>
/// <param name="signingKey">The voter-cookie key every front end shares (base64, 32 bytes or more).</param>
public sealed class VotingApps(string connectionString, string logDirectory, string signingKey)
{
    public string ConnectionString => connectionString;

    public string SigningKey => signingKey;

    /// <summary>The management token every application requires on its management port (at least 32 characters).</summary>
    public required string ManagementToken { get; init; }

    /// <summary>
    /// The ACL users of the front ends' Redis servers: each front end connects as <see cref="RedisAccounts.Frontend"/>,
    /// each worker's drainers as <see cref="RedisAccounts.Drainer"/>. None: Redis's <c>default</c> user.
    /// </summary>
    public RedisAccounts? Redis { get; init; }

    /// <summary>
    /// The votes database's login roles: each application connects as its own (the workers also get the schema
    /// owner's connection, to migrate with), none as the superuser. None: every application as
    /// <see cref="ConnectionString"/> says.
    /// </summary>
    public PostgresRoles? Roles { get; init; }

    /// <summary>
    /// The membership table: <c>AdoNet</c> (PostgreSQL) or <c>Localhost</c>, where <see cref="PrimarySilo"/> keeps it
    /// and clients connect through <see cref="LocalhostGateway"/>.
    /// </summary>
    public string Clustering { get; init; } = "AdoNet";

    /// <summary><c>Localhost</c> only: the silo port of the worker silo that keeps the membership table.</summary>
    public int? PrimarySilo { get; init; }

    /// <summary><c>Localhost</c> only: the gateway port of that silo, where the clients connect.</summary>
    public int? LocalhostGateway { get; init; }

    /// <summary>
    /// The certificate every silo and client presents for the cluster's mutual TLS (<c>Clustering:Tls</c>); null for a
    /// cluster without it.
    /// </summary>
    public ClusterCertificate? ClusterCertificate { get; init; }

    /// <summary>
    /// The poll's sealing secrets, which the workers get (<c>Poll:SigningKeyPath</c>, <c>Poll:PseudonymKey</c>), and the
    /// front ends the pseudonym key alone, for their receipt codes; null: workers that cannot seal, receipts without codes.
    /// </summary>
    public PollSecrets? Sealing { get; init; }

    /// <summary>The results app's public address, which the front ends' receipts link to (<c>Poll:ResultsUrl</c>); null: no link.</summary>
    public Uri? ResultsUrl { get; init; }

    /// <summary>Settings every application gets (each reads only its own sections), before a start's overrides.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    public AppLaunch Worker(string name, IReadOnlyDictionary<string, string?>? overrides = null, AppPorts? ports = null)
    {
        ports ??= AppPorts.Free(silo: true, gateway: true);
        var role = new Dictionary<string, string?>
        {
            ["Postgres__ConnectionString"] = As(PostgresRoles.Worker),
            ["Postgres__MigrationConnectionString"] = Roles?.As(connectionString, PostgresRoles.Owner),
            ["Drainers__RedisUser"] = Redis?.Drainer.User,
            ["Drainers__RedisPassword"] = Redis?.Drainer.Password,
        };
        foreach (var (key, value) in Sealing?.Settings ?? new Dictionary<string, string?>())
        {
            role[key] = value;
        }

        return Launch(name, "Silo", "Voting.Silo", ports, Silo(ports, PostgresRoles.Worker), role, overrides);
    }

    public AppLaunch Web(string name, string redisEndpoint, IReadOnlyDictionary<string, string?>? overrides = null, AppPorts? ports = null)
    {
        ports ??= AppPorts.Free(silo: true);
        var role = new Dictionary<string, string?>
        {
            ["Frontend__Id"] = name,
            ["Frontend__Redis"] = redisEndpoint,
            ["Frontend__RedisUser"] = Redis?.Frontend.User,
            ["Frontend__RedisPassword"] = Redis?.Frontend.Password,
            ["VoterCookie__SigningKey"] = signingKey,
            // Plain HTTP on loopback: the front ends take it (in production they require HTTPS at the balancer).
            // ./voting up --tls and the TLS tests turn it on.
            ["Edge__RequireHttps"] = "false",
            ["Poll__ResultsUrl"] = ResultsUrl?.ToString(),
        };
        foreach (var (key, value) in Sealing?.FrontendSettings ?? new Dictionary<string, string?>())
        {
            role[key] = value;
        }

        return Launch(name, "Web", "Voting.Web", ports, Silo(ports, PostgresRoles.Web), role, overrides);
    }

    public AppLaunch Results(string name, IReadOnlyDictionary<string, string?>? overrides = null, AppPorts? ports = null) =>
        Launch(name, "Results", "Voting.Results", ports ?? AppPorts.Free(), Client(PostgresRoles.Results), new Dictionary<string, string?>
        {
            ["Postgres__ConnectionString"] = As(PostgresRoles.Results),
        }, overrides);

    /// <summary>The load balancer, an Orleans client that routes to the front ends the registry lists.</summary>
    public AppLaunch Balancer(string name, IReadOnlyDictionary<string, string?>? overrides = null, AppPorts? ports = null) =>
        Launch(name, "Balancer", "Voting.Balancer", ports ?? AppPorts.Free(), Client(PostgresRoles.Balancer), new Dictionary<string, string?>(), overrides);

    public AppProcess StartWorker(string name, IReadOnlyDictionary<string, string?>? overrides = null, AppPorts? ports = null) =>
        AppProcess.Start(Worker(name, overrides, ports));

    public AppProcess StartWeb(string name, string redisEndpoint, IReadOnlyDictionary<string, string?>? overrides = null, AppPorts? ports = null) =>
        AppProcess.Start(Web(name, redisEndpoint, overrides, ports));

    public AppProcess StartResults(string name, IReadOnlyDictionary<string, string?>? overrides = null, AppPorts? ports = null) =>
        AppProcess.Start(Results(name, overrides, ports));

    public AppProcess StartBalancer(string name, IReadOnlyDictionary<string, string?>? overrides = null, AppPorts? ports = null) =>
        AppProcess.Start(Balancer(name, overrides, ports));

    private AppLaunch Launch(string name, string folder, string assembly, AppPorts ports, Dictionary<string, string?> cluster,
        Dictionary<string, string?> role, IReadOnlyDictionary<string, string?>? overrides)
    {
        var settings = new Dictionary<string, string?>(cluster) { ["Management__Token"] = ManagementToken };
        foreach (var layer in (IReadOnlyDictionary<string, string?>[])[role, Settings, overrides ?? new Dictionary<string, string?>()])
        {
            foreach (var (key, value) in layer)
            {
                settings[key] = value;
            }
        }

        return new AppLaunch(name, folder, assembly, settings, logDirectory, ports);
    }

    /// <summary>Membership settings of a silo host: its silo port and (0: none) gateway port.</summary>
    private Dictionary<string, string?> Silo(AppPorts ports, string role)
    {
        var settings = Client(role);
        settings["Clustering__SiloPort"] = Port(ports.Silo ?? throw new ArgumentException("A silo host needs a silo port.", nameof(ports)));
        settings["Clustering__GatewayPort"] = Port(ports.Gateway ?? 0);
        return settings;
    }

    /// <summary>Membership settings every process of the cluster shares, silo or client; its database as <paramref name="role"/>.</summary>
    private Dictionary<string, string?> Client(string role)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Clustering__Provider"] = Clustering,
            ["Clustering__ConnectionString"] = As(role),
        };
        foreach (var (key, value) in ClusterCertificate?.Settings ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        if (PrimarySilo is { } primary)
        {
            settings["Clustering__PrimarySiloEndpoint"] = "127.0.0.1:" + Port(primary);
        }

        if (LocalhostGateway is { } gateway)
        {
            settings["Clustering__LocalhostGateway"] = "127.0.0.1:" + Port(gateway);
        }

        return settings;
    }

    /// <summary>The votes database as <paramref name="role"/>, with <see cref="Roles"/>; else as the constructor says.</summary>
    private string As(string role) => Roles?.As(connectionString, role) ?? connectionString;

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

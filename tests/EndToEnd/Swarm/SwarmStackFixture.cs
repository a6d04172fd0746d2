using System.Globalization;
using Npgsql;
using Voting.Clustering.Consul.Testing;
using Voting.Local;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Local.Tls;
using Voting.Testing;

namespace Voting.EndToEnd.Tests.Swarm;

/// <summary>A node of the simulated cluster: its host name, its labels and whether it is a manager.</summary>
public sealed record SimulatedNode(string Hostname, IReadOnlyDictionary<string, string> Labels, bool Manager = false)
{
    /// <summary>Whether Swarm would place a task with these constraints here (<c>node.labels.X == V</c>, <c>node.role == R</c>).</summary>
    public bool Allows(IEnumerable<string> constraints) => constraints.All(constraint =>
    {
        var parts = constraint.Split("==", StringSplitOptions.TrimEntries);
        return parts[0] switch
        {
            "node.role" => (parts[1] == "manager") == Manager,
            var label when label.StartsWith("node.labels.", StringComparison.Ordinal) =>
                Labels.TryGetValue(label["node.labels.".Length..], out var value) && value == parts[1],
            var other => throw new InvalidOperationException($"The fixture cannot evaluate the constraint '{other}'."),
        };
    });
}

/// <summary>One task of a service on a node, its templates filled in as Swarm fills them.</summary>
public sealed record StackTask(string Name, StackService Service, SimulatedNode Node)
{
    public string? Hostname => Service.Hostname is { } hostname ? Fill(hostname) : null;

    public string Fill(string value) => value.Replace("{{.Node.Hostname}}", Node.Hostname, StringComparison.Ordinal);
}

/// <summary>
/// <c>deploy/swarm/stack.yml</c> run on one machine as local processes, next to the real Swarm of <c>./voting swarm</c>:
/// it is where the stack's default, Consul membership, runs (no Consul image can be had here). Every task of a service
/// built from our applications runs as a process with the environment its image and the stack give it — Swarm's
/// templates filled for the node it is placed on, in a simulated cluster of labelled nodes — and the secrets the stack
/// mounts for it (as files, like <c>/run/secrets</c>). Only what a single machine forces is translated: the stack's
/// network is the loopback network (its subnet becomes 127.0.0.0/8), PostgreSQL and each front-end node's Redis are
/// local processes, Consul is the strict in-test implementation of its HTTP API, and each process gets ports of its
/// own. A setting the stack forgets, or a secret it does not mount, stops that process at start-up here as it would in
/// the swarm.
/// </summary>
public sealed class SwarmStackFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly OwnedResources _owned = new();
    private readonly string _logs = TestDirectories.Create("swarm");
    private readonly List<AppProcess> _apps = [];

    public SwarmStack Stack { get; } = SwarmStack.Load();

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Images { get; } = DockerfileTargets.ReadEnvironments();

    /// <summary>The cluster the stack is placed on: the tutorial's nodes, with two balancer nodes to route through both.</summary>
    public IReadOnlyList<SimulatedNode> Nodes { get; } =
    [
        new("manager", new Dictionary<string, string> { ["voting.consul"] = "true" }, Manager: true),
        new("interlock01", new Dictionary<string, string> { ["voting.balancer"] = "true" }),
        new("interlock02", new Dictionary<string, string> { ["voting.balancer"] = "true" }),
        new("frontend01", new Dictionary<string, string> { ["voting.frontend"] = "true" }),
        new("frontend02", new Dictionary<string, string> { ["voting.frontend"] = "true" }),
        new("worker01", new Dictionary<string, string> { ["voting.worker"] = "true" }),
        new("store", new Dictionary<string, string> { ["voting.store"] = "true" }),
    ];

    public InTestConsul Consul { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    /// <summary>The processes of each service of ours, by service name.</summary>
    public Dictionary<string, List<AppProcess>> Tasks { get; } = [];

    /// <summary>Each balancer task's HTTPS address (the stack's port 8443, a free loopback port here).</summary>
    public Dictionary<AppProcess, Uri> HttpsAddresses { get; } = [];

    /// <summary>The certificate of the stack's secrets voting_edge_tls_cert and voting_edge_tls_key, made for loopback.</summary>
    public EdgeCertificate Certificate { get; } = EdgeCertificate.Create(TestDirectories.Create("swarm-tls"), EdgeCertificate.Loopback, TimeSpan.FromDays(1));

    /// <summary>What each secret of the stack holds here.</summary>
    private Dictionary<string, string> SecretValues { get; } = [];

    /// <summary>Each front-end node's Redis, by the host name its task has in the stack (<c>redis-frontend01</c>).</summary>
    private Dictionary<string, RedisServer> Redis { get; } = [];

    /// <summary>The tasks Swarm would run for a service on the simulated nodes.</summary>
    public IReadOnlyList<StackTask> TasksOf(StackService service)
    {
        var nodes = Nodes.Where(n => n.Allows(service.Constraints)).ToArray();
        return service.Mode == "global"
            ? [.. nodes.Select(n => new StackTask($"{service.Name}.{n.Hostname}", service, n))]
            : [.. Enumerable.Range(1, service.Replicas).Select(i => new StackTask(service.Replicas == 1 ? service.Name : $"{service.Name}.{i}", service, nodes[0]))];
    }

    public async Task InitializeAsync()
    {
        var postgres = _owned.Own(await TestServers.StartPostgresAsync());
        var connectionString = await postgres.CreateDatabaseAsync("voting");
        Database = _owned.Own(NpgsqlDataSource.Create(connectionString));
        // As the stack's consul service sets it up: ACLs on, default deny, the applications' token limited to orleans/.
        SecretValues["voting_consul_token"] = "stack-consul-token-" + Guid.NewGuid().ToString("N");
        Consul = _owned.Own(await InTestConsul.StartAsync(requiredToken: SecretValues["voting_consul_token"], tokenKeyPrefix: "orleans/"));
        foreach (var task in Stack.Services.Values.Where(s => s.Target == "redis").SelectMany(TasksOf))
        {
            Redis[task.Hostname ?? task.Service.Name] = _owned.Own(await TestServers.StartRedisAsync());
        }

        // What deploy/swarm/README.md tells the operator to create.
        foreach (var (role, service) in new[] { (PostgresRoles.Owner, "owner"), (PostgresRoles.Worker, "worker"), (PostgresRoles.Web, "web"),
            (PostgresRoles.Results, "results"), (PostgresRoles.Balancer, "balancer") })
        {
            SecretValues[$"voting_postgres_{service}_connection"] = postgres.ConnectionString("voting", role);
            SecretValues[$"voting_postgres_{service}_password"] = "(read by the postgres image only)";
        }

        SecretValues["voting_redis_frontend_password"] = TestApps.RedisAccounts.Frontend.Password;
        SecretValues["voting_redis_drainer_password"] = TestApps.RedisAccounts.Drainer.Password;
        SecretValues["voting_voter_cookie_key"] = TestApps.SigningKey;
        SecretValues["voting_postgres_password"] = "(read by the postgres image only)";
        SecretValues["voting_management_token"] = TestApps.ManagementToken;
        SecretValues["voting_cluster_tls_certificate"] = File.ReadAllText(TestApps.ClusterCertificate.CertificatePath);
        SecretValues["voting_cluster_tls_key"] = File.ReadAllText(TestApps.ClusterCertificate.KeyPath);
        SecretValues["voting_poll_signing_key"] = File.ReadAllText(TestApps.Sealing.SigningKeyPath);
        SecretValues["voting_poll_pseudonym_key"] = File.ReadAllText(TestApps.Sealing.PseudonymKeyPath).Trim();
        SecretValues["voting_forensics_secret"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        SecretValues["voting_edge_tls_cert"] = await File.ReadAllTextAsync(Certificate.CertificatePath);
        SecretValues["voting_edge_tls_key"] = await File.ReadAllTextAsync(Certificate.KeyPath);

        // Workers first, then front ends, then their clients, as a swarm would converge anyway.
        foreach (var service in Stack.Services.Values.Where(s => s.IsApplication).OrderBy(s => s.Target switch { "silo" => 0, "web" => 1, _ => 2 }))
        {
            foreach (var task in TasksOf(service))
            {
                var process = Start(task);
                _apps.Add(_owned.Own(process));
                Tasks.TryAdd(service.Name, []);
                Tasks[service.Name].Add(process);
            }
        }

        await Task.WhenAll(_apps.Select(a => a.WaitReadyAsync(StartTimeout)));
    }

    public async Task DisposeAsync() => await _owned.DisposeAsync();

    private AppProcess Start(StackTask task)
    {
        var service = task.Service;
        var settings = new Dictionary<string, string?>(Images[service.Target!].ToDictionary(e => e.Key, e => (string?)e.Value));
        foreach (var (key, value) in service.Environment)
        {
            settings[key] = task.Fill(value);
        }

        // The loopback network plays the stack's overlay networks: a silo advertises its address in the cluster network.
        settings["Clustering__AdvertisedAddress"] = Translate(settings, "Clustering__AdvertisedAddress", Stack.SubnetOf(service, "cluster"), "127.0.0.0/8");
        settings["Clustering__Consul__Address"] = Translate(settings, "Clustering__Consul__Address", "http://consul:8500", Consul.Address);
        if (service.Target == "web")
        {
            // The front ends believe forwarded client addresses from the edge network, where the balancer is.
            settings["Edge__TrustedProxies__0"] = Translate(settings, "Edge__TrustedProxies__0", Stack.SubnetOf(service, "edge"), "127.0.0.0/8");
        }

        var ports = new AppPorts(
            FreePort.Next(),
            FreePort.Next(),
            settings.ContainsKey("Clustering__SiloPort") ? FreePort.Next() : null,
            settings.TryGetValue("Clustering__GatewayPort", out var gateway) && gateway != "0" ? FreePort.Next() : null);
        if (ports.Silo is { } siloPort)
        {
            settings["Clustering__SiloPort"] = Port(siloPort);
        }

        if (ports.Gateway is { } gatewayPort)
        {
            settings["Clustering__GatewayPort"] = Port(gatewayPort);
        }

        if (settings.TryGetValue("Frontend__Redis", out var redis))
        {
            var host = redis!.Split(':')[0];
            settings["Frontend__Redis"] = Redis.TryGetValue(host, out var server)
                ? server.Endpoint
                : throw new InvalidOperationException($"{task.Name} writes to {redis}, which no Redis task of the stack is called.");
        }

        // The front end announces its own address here; in the swarm, the one the stack names (checked by the tests).
        settings.Remove("Frontend__AdvertisedUrl");
        settings.Remove("Urls");
        var secrets = SecretsFor(service, task.Name);
        settings["SecretsDirectory"] = secrets;
        Uri? https = null;
        if (service.Target is "balancer" or "results")
        {
            // The public edge: TLS with the certificate the stack mounts, on a port of its own; plain HTTP redirects
            // there (the published port: 443 for the balancer, 8443 for the results app).
            https = new Uri($"https://127.0.0.1:{Port(FreePort.Next())}/");
            settings["Edge__Tls__Urls"] = Translate(settings, "Edge__Tls__Urls", "https://+:8443", https.ToString().TrimEnd('/'));
            settings["Edge__Tls__PublicHttpsPort"] = Translate(settings, "Edge__Tls__PublicHttpsPort", service.Target == "balancer" ? "443" : "8443", Port(https.Port));
            foreach (var (key, secret) in new[] { ("Edge__Tls__CertificatePath", "voting_edge_tls_cert"), ("Edge__Tls__KeyPath", "voting_edge_tls_key") })
            {
                settings[key] = Translate(settings, key, "/run/secrets/" + secret, Path.Combine(secrets, secret));
            }
        }

        // A setting naming a secret's file (the cluster's certificate, Consul's token) names it where this task's secrets are.
        foreach (var (key, value) in settings.Where(s => s.Value?.StartsWith(StackSecrets, StringComparison.Ordinal) == true).ToArray())
        {
            settings[key] = Path.Combine(secrets, value![StackSecrets.Length..]);
        }

        var process = AppProcess.Start(new AppLaunch(task.Name, Folder(service.Target!), Assembly(service.Target!), settings, _logs, ports));
        if (https is not null)
        {
            HttpsAddresses[process] = https;
        }

        return process;
    }

    private const string StackSecrets = "/run/secrets/";

    /// <summary>The secrets the stack mounts for the service, as files named by their targets.</summary>
    private string SecretsFor(StackService service, string name)
    {
        var directory = Path.Combine(_logs, "secrets", name);
        Directory.CreateDirectory(directory);
        foreach (var (target, source) in service.Secrets)
        {
            File.WriteAllText(Path.Combine(directory, target), SecretValues.TryGetValue(source, out var value)
                ? value
                : throw new InvalidOperationException($"{service.Name} mounts secret {source}, which this fixture does not know."));
        }

        return directory;
    }

    private static string Translate(Dictionary<string, string?> settings, string key, string expected, string local) =>
        settings.TryGetValue(key, out var value) && value == expected
            ? local
            : throw new InvalidOperationException($"{key} is '{value}' in the stack, not '{expected}'.");

    private static string Folder(string target) => target switch
    {
        "web" => "Web",
        "silo" => "Silo",
        "results" => "Results",
        "balancer" => "Balancer",
        _ => throw new InvalidOperationException($"No application builds image target '{target}'."),
    };

    private static string Assembly(string target) => "Voting." + Folder(target);

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

[CollectionDefinition(Name)]
public sealed class SwarmStackCollection : ICollectionFixture<SwarmStackFixture>
{
    public const string Name = "swarm stack";
}

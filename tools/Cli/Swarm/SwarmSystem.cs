using Voting.Sealing.Manifest;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Voting.Local;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Local.Tls;

namespace Voting.Cli.Swarm;

/// <summary>Where the deployed stack answers, from this machine.</summary>
/// <param name="Vote">The balancer, on node interlock.</param>
/// <param name="Results">The results app, on node store.</param>
/// <param name="Dashboard">The worker tier's dashboard, through the operators' tunnel to the workers' management port.</param>
/// <param name="Postgres">The votes database through the operators' tunnels, for the load tool's audit.</param>
/// <param name="BalancerManagement">The balancer's management port (<c>/balancer/frontends</c>), through its tunnel.</param>
/// <param name="ResultsManagement">The results app's management port (<c>/api/pipeline</c>), through its tunnel.</param>
/// <param name="WorkerManagement">The worker silos' management port (<c>/api/poll</c>, the dashboard), through its tunnel.</param>
/// <param name="ManagementToken">The token every management port requires (the stack's secret <c>voting_management_token</c>).</param>
/// <param name="VoteProbe">The balancer's plain-HTTP port, which redirects to <paramref name="Vote"/> but answers the health probes.</param>
/// <param name="ResultsProbe">The results app's plain-HTTP port, which redirects to <paramref name="Results"/> but answers the health probes.</param>
/// <param name="Certificate">
/// The public edge's self-signed certificate (the stack's secrets <c>voting_edge_tls_cert</c> and <c>_key</c>), for
/// nodes interlock and store: to trust for <paramref name="Vote"/> and <paramref name="Results"/>.
/// </param>
internal sealed record SwarmEndpoints(
    Uri Vote, Uri Results, Uri? Dashboard, string Postgres, Uri BalancerManagement, Uri ResultsManagement, Uri WorkerManagement, string ManagementToken,
    Uri VoteProbe, Uri ResultsProbe, EdgeCertificate Certificate);

/// <summary>
/// Voting.Orleans deployed with <c>deploy/swarm/stack.yml</c> on the tutorial's nodes (<see cref="SwarmNodes"/>), with
/// the images of <see cref="SwarmImages"/>: <c>swarm up</c>, <c>down</c>, <c>status</c> and <c>add frontend</c>, and
/// the faults the tutorial's troubleshooting list names, for the tests and <c>swarm chaos</c>.
/// </summary>
internal sealed class SwarmSystem
{
    public const string Stack = "voting";
    public const string Clustering = "AdoNet";
    /// <summary>The stack's only attachable network (unencrypted here, VOTING_OVERLAY=plain): where the operators' tunnels attach.</summary>
    private const string Network = Stack + "_operators-plain";
    /// <summary>
    /// The store network (unencrypted here): the services name PostgreSQL's nodes on it (<c>postgres01.voting_store-plain</c>),
    /// since the nodes are also on the operators network, and a bare service name may resolve to their address there.
    /// </summary>
    private const string StoreNetwork = Stack + "_store-plain";
    private const string Tunnel = "voting-postgres-tunnel";
    private const string ManagementTunnel = "voting-management-tunnel";
    private const string TunnelNode = "interlock";

    /// <summary>The management port every application listens on in its container (<c>Management__Urls</c> in the stack); never published.</summary>
    private const int ManagementPort = 9000;

    /// <summary>
    /// The services whose management ports the operators reach, and the port of <see cref="TunnelNode"/> that reaches
    /// each: the workers (dashboard, <c>/api/drainers</c>), the balancer (<c>/balancer/frontends</c>), the results app
    /// (<c>/api/pipeline</c>).
    /// </summary>
    private static readonly (string Service, int Port)[] ManagementTunnels = [("worker", 9070), ("balancer", 9080), ("results", 9090)];

    /// <summary>The formation's data nodes (services of the stack), and the port of <see cref="TunnelNode"/> that reaches each.</summary>
    private static readonly (string Service, int Port)[] PostgresNodes = [("postgres01", 5432), ("postgres02", 5433)];
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(8);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly string _directory;
    private readonly TextWriter _output;
    private readonly SwarmNodes _nodes;

    public SwarmSystem(string dataDirectory, TextWriter output)
    {
        _directory = Path.Combine(dataDirectory, "swarm");
        _output = output;
        _nodes = new SwarmNodes(output);
        Directory.CreateDirectory(_directory);
        Engine = new DockerEngine(_directory, output);
        Images = new SwarmImages(_directory, output);
    }

    public DockerEngine Engine { get; }

    public SwarmImages Images { get; }

    private string SecretsFile => Path.Combine(_directory, "secrets.json");

    /// <summary>The balancer's certificate, made with the secrets for node interlock's name and address.</summary>
    private EdgeCertificate Certificate => new(Path.Combine(_directory, "tls", "edge.crt"), Path.Combine(_directory, "tls", "edge.key"));

    // --- up, add, down ----------------------------------------------------------------------------------------

    /// <summary>
    /// Builds the images, creates the nodes and the Swarm unless they are whole already (anything less is removed and
    /// made again), deploys the stack and waits until it answers.
    /// </summary>
    public async Task<SwarmEndpoints> UpAsync()
    {
        await Engine.EnsureRunningAsync();
        _output.WriteLine("Building the images (deploy/swarm/Dockerfile)...");
        var tag = await Images.BuildAsync();
        var nodes = await NodesAsync();
        if (!await SwarmNodes.IsWholeAsync(nodes.Select(n => n.Name)) || !File.Exists(SecretsFile))
        {
            _output.WriteLine("Creating the nodes, as Docker-in-Docker containers, and the Swarm...");
            await SwarmNodes.RemoveAllAsync();
            nodes = [.. SwarmNodes.Tutorial];
            await _nodes.CreateAsync(tag, nodes);
            await SwarmNodes.FormSwarmAsync(nodes);
            await CreateSecretsAsync();
        }

        _output.WriteLine("Copying the images onto the nodes (docker save | docker load)...");
        await Task.WhenAll(nodes.Select(n => CopyImagesAsync(n, tag)));
        foreach (var node in nodes)
        {
            foreach (var label in node.Labels)
            {
                await SwarmNodes.LabelAsync(node, label);
            }
        }

        _output.WriteLine($"Deploying deploy/swarm/stack.yml as '{Stack}' with {Clustering} clustering: the membership table is in PostgreSQL " +
            "(no Consul image can be had on this machine; VOTING_CLUSTERING=Consul is the stack's default elsewhere)...");
        await DeployAsync(tag);
        await StartTunnelsAsync(tag);
        _output.WriteLine("Waiting for PostgreSQL's primary (postgres01, node store) and its standby in sync (postgres02, worker01), and the apps...");
        return await WaitUntilReadyAsync(nodes.Where(n => n.IsFrontend).Select(n => n.Name));
    }

    /// <summary>One more front-end node: created, joined, given the images, labelled; the stack's global services do the rest.</summary>
    public async Task<SwarmNode> AddFrontendAsync()
    {
        var tag = Images.LastTag ?? throw new CliException("no images are built: ./voting swarm up");
        var existing = await SwarmNodes.ExistingAsync();
        if (!existing.ContainsKey(SwarmNodes.Manager))
        {
            throw new CliException("no Swarm runs: ./voting swarm up");
        }

        var index = 1;
        while (existing.ContainsKey(SwarmNode.Frontend(index).Name))
        {
            index++;
        }

        var node = SwarmNode.Frontend(index);
        await _nodes.CreateAsync(tag, [node]);
        await SwarmNodes.JoinAsync([node]);
        await CopyImagesAsync(node, tag);
        await SwarmNodes.LabelAsync(node, node.Label!);
        await WaitUntilReadyAsync(await FrontendNamesAsync());
        return node;
    }

    /// <summary>Removes the nodes, their volumes and network, and stops the engine if <c>swarm up</c> started it.</summary>
    public async Task DownAsync(bool purge)
    {
        if (!await DockerEngine.AnswersAsync())
        {
            _output.WriteLine("No Docker engine runs: nothing to remove.");
            return;
        }

        _output.WriteLine("Removing the Swarm's nodes, their volumes and network...");
        await SwarmNodes.RemoveAllAsync();
        File.Delete(SecretsFile);
        if (purge)
        {
            _output.WriteLine("Removing the images (voting/*)...");
            await SwarmImages.RemoveAllAsync();
            File.Delete(Path.Combine(_directory, "images.tag"));
        }

        await Engine.StopIfOursAsync();
    }

    // --- where it answers ------------------------------------------------------------------------------------

    public async Task<SwarmEndpoints> EndpointsAsync()
    {
        var interlock = await SwarmNodes.AddressOfAsync(SwarmNodes.Tutorial[1]);
        var store = await SwarmNodes.AddressOfAsync(SwarmNodes.Tutorial[2]);
        var hosts = string.Join(',', PostgresNodes.Select(n => $"{interlock}:{n.Port}"));
        var secrets = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(SecretsFile))!;
        var password = secrets["postgres_password"];
        var token = secrets.GetValueOrDefault("management_token") ?? throw new CliException("this Swarm was made before management tokens: ./voting swarm down, then up");
        Uri Management(string service) => new($"http://{interlock}:{ManagementTunnels.Single(t => t.Service == service).Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}/");
        var dashboard = new Uri(Management("worker"), "dashboard/");
        return new SwarmEndpoints(
            new Uri($"https://{interlock}/"),
            ResultsUrl(store),
            await Readiness.StatusAsync(Management("worker")) == 200 ? dashboard : null,
            // Both data nodes through the tunnels, keeping to the one that takes writes, as the applications do.
            $"Host={hosts};Database=voting;Username=voting;Password={password};Timeout=5;Target Session Attributes=read-write;Host Recheck Seconds=1",
            Management("balancer"),
            Management("results"),
            Management("worker"),
            token,
            new Uri($"http://{interlock}/"),
            new Uri($"http://{store}:8090/"),
            Certificate);
    }

    /// <summary>The results app's public address: HTTPS on node <paramref name="store"/>'s port 8443 (the stack's default).</summary>
    private static Uri ResultsUrl(string store) => new($"https://{store}:8443/");

    /// <summary>Nodes, services, tasks and whether each published address answers ready.</summary>
    public async Task StatusAsync()
    {
        if (!await DockerEngine.AnswersAsync() || !(await SwarmNodes.ExistingAsync()).TryGetValue(SwarmNodes.Manager, out var running) || !running)
        {
            _output.WriteLine("No Swarm runs (./voting swarm up starts one).");
            return;
        }

        foreach (var (title, arguments) in new (string, string[])[]
        {
            ("Nodes", ["node", "ls", "--format", "table {{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}"]),
            ("Services", ["service", "ls", "--format", "table {{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}"]),
            ("Tasks", ["stack", "ps", Stack, "--filter", "desired-state=running", "--format", "table {{.Name}}\t{{.Node}}\t{{.CurrentState}}\t{{.Error}}"]),
        })
        {
            _output.WriteLine(title + ":");
            var result = await DockerCli.OnNodeAsync(SwarmNodes.Manager, arguments, check: false);
            foreach (var line in (result.Succeeded ? result.Output : result.Error).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                _output.WriteLine("  " + line);
            }
        }

        _output.WriteLine("PostgreSQL (pg_auto_failover: reported state, goal state):");
        try
        {
            foreach (var node in await FormationAsync())
            {
                _output.WriteLine($"  {node.Name,-11} {await TaskNodeAsync(node.Name) ?? "(no task)",-10} {node.ReportedState,-14} {node.GoalState,-14} " +
                    (node.IsPrimary ? "PRIMARY" : node.ReportedState == "secondary" ? "standby" : "") + (node.Healthy ? "" : " (unhealthy)"));
            }
        }
        catch (CliException e)
        {
            _output.WriteLine("  " + e.Message);
        }

        var endpoints = await EndpointsAsync();
        _output.WriteLine("Readiness:");
        foreach (var (name, url) in new (string, Uri?)[] { ("Vote", endpoints.VoteProbe), ("Results", endpoints.ResultsProbe), ("Dashboard", endpoints.Dashboard) })
        {
            var status = url is null ? null : await Readiness.StatusAsync(new Uri(url, "/"));
            _output.WriteLine($"  {name + ":",-11} {url?.ToString() ?? "(no worker task)"}   ready: {status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "000"}");
        }

        _output.WriteLine("  Front ends the balancer routes to: " + string.Join(", ", await AvailableFrontendsAsync(endpoints)));
    }

    /// <summary>Prints the addresses the way <c>swarm up</c> and <c>add</c> end.</summary>
    public void Describe(SwarmEndpoints endpoints)
    {
        _output.WriteLine();
        _output.WriteLine($"Voting.Orleans runs on Docker Swarm ({Clustering} clustering).");
        _output.WriteLine($"  Vote:       {endpoints.Vote}   (the balancer on node interlock, HTTPS; {endpoints.VoteProbe} redirects there; its view: {endpoints.BalancerManagement}balancer/frontends)");
        _output.WriteLine($"  Results:    {endpoints.Results}   (on node store, HTTPS; {endpoints.ResultsProbe} redirects there; JSON: /api/results; receipts: /receipt)");
        _output.WriteLine($"  TLS:        self-signed certificate {endpoints.Certificate.CertificatePath} for both (curl --cacert; the load tool's --ca)");
        _output.WriteLine($"  Dashboard:  {endpoints.Dashboard?.ToString() ?? "(no worker task)"}   (worker01; drainers: /api/drainers)");
        _output.WriteLine($"  Management: the applications' management ports, through tunnels on node {TunnelNode} (never published by the stack); " +
            $"token in {SecretsFile} (management_token); a browser signs in at /management/sign-in on each");
        _output.WriteLine("  Status:     ./voting swarm status; stop it all with ./voting swarm down");
    }

    // --- faults ----------------------------------------------------------------------------------------------

    /// <summary><c>docker kill</c> of a service's container on a node, as a crash would; Swarm starts another.</summary>
    public static async Task KillTaskAsync(string service, string node)
    {
        var containers = (await DockerCli.OnNodeAsync(node, "ps", "-q", "--filter", $"label=com.docker.swarm.service.name={Stack}_{service}")).Lines;
        if (containers.Count == 0)
        {
            throw new CliException($"no {service} container runs on {node}");
        }

        await DockerCli.OnNodeAsync(node, ["kill", .. containers]);
    }

    /// <summary>What the formation's monitor says of each data node now (its <c>pgautofailover.node</c> table).</summary>
    public static async Task<IReadOnlyList<HaNodeState>> FormationAsync()
    {
        var node = await TaskNodeAsync("pgmonitor") ?? throw new CliException("no task of the pgmonitor service runs");
        var container = (await DockerCli.OnNodeAsync(node, "ps", "-q", "--filter", $"label=com.docker.swarm.service.name={Stack}_pgmonitor")).Lines is [var first, ..]
            ? first
            : throw new CliException($"no pgmonitor container runs on {node}");
        var result = await DockerCli.OnNodeAsync(node, ["exec", container, "psql", "-X", "-At", "-F", "|", "-h", "/var/run/postgresql", "-d", "pg_auto_failover",
            "-c", "SELECT nodename, nodeport, reportedstate, goalstate, health FROM pgautofailover.node ORDER BY nodeid"], check: false);
        if (!result.Succeeded)
        {
            throw new CliException("the pg_auto_failover monitor does not answer: " + result.Error.Trim());
        }

        return [.. result.Lines.Select(l => l.Split('|')).Where(f => f.Length == 5)
            .Select(f => new HaNodeState(f[0], int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), f[2], f[3], f[4] == "1"))];
    }

    /// <summary>True when the formation has a primary and a standby in sync with it.</summary>
    public static bool IsWhole(IReadOnlyList<HaNodeState> formation) =>
        formation.Count == 2 && formation.Any(s => s is { ReportedState: "primary", GoalState: "primary" })
        && formation.Any(s => s is { ReportedState: "secondary", GoalState: "secondary" });

    /// <summary>The data node that takes writes now, and the Swarm node its task runs on.</summary>
    public static async Task<(string Service, string Node)> PrimaryAsync()
    {
        var primary = (await FormationAsync()).FirstOrDefault(s => s.IsPrimary) ?? throw new CliException("the PostgreSQL formation has no primary now");
        return (primary.Name, await TaskNodeAsync(primary.Name) ?? throw new CliException($"no task of {primary.Name} runs"));
    }

    /// <summary>The node a service's running task is on, from the manager, or null.</summary>
    public static async Task<string?> TaskNodeAsync(string service)
    {
        var tasks = await DockerCli.OnNodeAsync(SwarmNodes.Manager, ["service", "ps", $"{Stack}_{service}", "--filter", "desired-state=running", "--format", "{{.Node}}"], check: false);
        return tasks.Succeeded && tasks.Lines is [var node, ..] ? node : null;
    }

    /// <summary>Stops a whole node (its engine and everything on it), as a machine that goes down.</summary>
    public static Task StopNodeAsync(string node) => DockerCli.RunAsync("stop", "-t", "20", node);

    public static Task StartNodeAsync(string node) => DockerCli.RunAsync("start", node);

    /// <summary>Cuts a node off the nodes' network (a partition), or connects it again with its address.</summary>
    public static async Task PartitionAsync(string node, bool cut)
    {
        if (cut)
        {
            await DockerCli.RunAsync("network", "disconnect", "-f", SwarmNodes.Network, node);
        }
        else
        {
            var address = await SwarmNodes.AddressOfAsync(SwarmNodes.Tutorial.Concat(Enumerable.Range(1, 99).Select(SwarmNode.Frontend)).First(n => n.Name == node));
            await DockerCli.RunAsync("network", "connect", "--ip", address, SwarmNodes.Network, node);
        }
    }

    /// <summary>Waits until the balancer, the results app and every given front end answer ready again.</summary>
    public async Task<SwarmEndpoints> WaitUntilReadyAsync(IEnumerable<string> frontends)
    {
        var expected = frontends.ToArray();
        var watch = Stopwatch.StartNew();
        var last = "";
        while (watch.Elapsed < ReadyTimeout)
        {
            try
            {
                var endpoints = await EndpointsAsync();
                var vote = await Readiness.StatusAsync(endpoints.VoteProbe);
                var results = await Readiness.StatusAsync(endpoints.ResultsProbe);
                var routed = await AvailableFrontendsAsync(endpoints);
                last = $"balancer {vote?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "000"}, results {results?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "000"}, " +
                    $"routed to {(routed.Count == 0 ? "none" : string.Join(", ", routed))}, dashboard {(endpoints.Dashboard is null ? "not yet" : "reachable")}";
                var formation = await FormationAsync();
                last += ", PostgreSQL " + (formation.Count == 0 ? "no nodes yet" : string.Join(", ", formation.Select(n => $"{n.Name} {n.ReportedState}")));
                if (vote == 200 && results == 200 && endpoints.Dashboard is not null && expected.All(routed.Contains) && IsWhole(formation))
                {
                    return endpoints;
                }
            }
            catch (CliException e)
            {
                last = e.Message;
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        throw new CliException($"the stack did not answer ready within {ReadyTimeout.TotalMinutes:F0} minutes ({last}); ./voting swarm status shows its tasks\n"
            + await WhyNotReadyAsync());
    }

    /// <summary>
    /// What an operator would look at first when the stack does not come up, for the message that says so (a test's
    /// failure, a CI log): every task that is not running with its error, and the last lines of the data services' logs.
    /// </summary>
    private static async Task<string> WhyNotReadyAsync()
    {
        var text = new System.Text.StringBuilder();
        var tasks = await DockerCli.OnNodeAsync(SwarmNodes.Manager, ["stack", "ps", Stack, "--no-trunc", "--format", "{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}"], check: false);
        text.AppendLine("Tasks not running:");
        foreach (var line in tasks.Lines.Where(l => !l.Contains(" Running ", StringComparison.Ordinal)).Take(20))
        {
            text.AppendLine("  " + line);
        }

        foreach (var service in (string[])["pgmonitor", "postgres01", "postgres02"])
        {
            var logs = await DockerCli.OnNodeAsync(SwarmNodes.Manager, ["service", "logs", "--raw", "--tail", "25", $"{Stack}_{service}"], check: false);
            text.AppendLine($"Last lines of {service}'s log:");
            foreach (var line in (logs.Output + logs.Error).Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(25))
            {
                text.AppendLine("  " + line);
            }
        }

        return text.ToString();
    }

    /// <summary>The front-end nodes that exist now.</summary>
    public static async Task<IReadOnlyList<string>> FrontendNamesAsync() => [.. (await NodesAsync()).Where(n => n.IsFrontend).Select(n => n.Name)];

    // --- parts -----------------------------------------------------------------------------------------------

    /// <summary>The nodes that exist now: the tutorial's, and the front ends added since.</summary>
    private static async Task<IReadOnlyList<SwarmNode>> NodesAsync()
    {
        var existing = await SwarmNodes.ExistingAsync();
        var added = existing.Keys.Select(name => Enumerable.Range(1, 99).Select(SwarmNode.Frontend).FirstOrDefault(f => f.Name == name))
            .OfType<SwarmNode>().Where(f => SwarmNodes.Tutorial.All(t => t.Name != f.Name));
        return [.. SwarmNodes.Tutorial, .. added.OrderBy(f => f.Host)];
    }

    private static async Task CopyImagesAsync(SwarmNode node, string tag)
    {
        if (node.Targets.Count > 0)
        {
            await DockerCli.CopyImagesAsync(node.Name, [.. node.Targets.Select(t => SwarmImages.Image(t, tag))]);
        }
    }

    /// <summary>
    /// The stack's secrets, new for every Swarm: the operators' database password and each service role's, those of
    /// pg_auto_failover's replication and keeper users, each service's connection string (the workers' also the schema
    /// owner's), the front ends' and the drainers' Redis
    /// passwords, the voter-cookie key, the forensics secret, the management token, the cluster's certificate,
    /// Consul's tokens, and the public edge's certificate (self-signed, for the names and addresses of node interlock,
    /// the balancer's, and node store, the results app's) and key.
    /// </summary>
    private async Task CreateSecretsAsync()
    {
        var interlock = await SwarmNodes.AddressOfAsync(SwarmNodes.Tutorial[1]);
        var store = await SwarmNodes.AddressOfAsync(SwarmNodes.Tutorial[2]);
        var certificate = EdgeCertificate.Create(Path.GetDirectoryName(Certificate.CertificatePath)!,
            [SwarmNodes.Tutorial[1].Name, interlock, SwarmNodes.Tutorial[2].Name, store, .. EdgeCertificate.Loopback], TimeSpan.FromDays(90));
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var (clusterCertificate, clusterKey) = ClusterCertificate.Create("voting-cluster", DateTimeOffset.UtcNow);
        var hosts = string.Join(',', PostgresNodes.Select(n => $"{n.Service}.{StoreNetwork}:5432"));
        var secrets = new Dictionary<string, string>
        {
            ["voting_postgres_password"] = password,
            // pg_auto_failover's replication user (a superuser) and its keepers' user on the monitor sign in with these.
            ["voting_postgres_replication_password"] = Secret.Generate(),
            ["voting_postgres_autoctl_password"] = Secret.Generate(),
            ["voting_voter_cookie_key"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["voting_forensics_secret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["voting_management_token"] = ManagementToken.Generate(),
            // Every silo and client of the cluster presents it, and requires it of the other end (Orleans' TLS).
            ["voting_cluster_tls_certificate"] = clusterCertificate,
            ["voting_cluster_tls_key"] = clusterKey,
            // The workers seal the closed poll with these (docs/SEALING.md).
            ["voting_poll_signing_key"] = SealSigningKey.CreatePem(),
            ["voting_poll_pseudonym_key"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            // Consul's ACLs (the consul service: default deny; the applications' token may write orleans/ only). This
            // machine's Swarm keeps membership in PostgreSQL and runs no Consul, but the stack mounts them.
            ["voting_consul_management_token"] = Guid.NewGuid().ToString(),
            ["voting_consul_token"] = Guid.NewGuid().ToString(),
            ["voting_edge_tls_cert"] = await File.ReadAllTextAsync(certificate.CertificatePath),
            ["voting_edge_tls_key"] = await File.ReadAllTextAsync(certificate.KeyPath),
            ["voting_redis_frontend_password"] = Secret.Generate(),
            ["voting_redis_drainer_password"] = Secret.Generate(),
        };
        foreach (var (role, service) in new[] { (PostgresRoles.Owner, "owner"), (PostgresRoles.Worker, "worker"), (PostgresRoles.Web, "web"),
            (PostgresRoles.Results, "results"), (PostgresRoles.Balancer, "balancer") })
        {
            var rolePassword = Secret.Generate();
            secrets[$"voting_postgres_{service}_password"] = rolePassword;
            // Both data nodes; Npgsql keeps to the one that takes writes and looks again a second after one failed.
            // read-write, not primary: pg_auto_failover promotes a standby read-only until the old primary is known
            // to be demoted (docs/RELIABILITY.md).
            secrets[$"voting_postgres_{service}_connection"] =
                $"Host={hosts};Database=voting;Username={role};Password={rolePassword};Target Session Attributes=read-write;Host Recheck Seconds=1";
        }

        foreach (var (name, value) in secrets)
        {
            await DockerCli.OnNodeAsync(SwarmNodes.Manager, ["secret", "create", name, "-"], input: value);
        }

        // Kept for the operators' tunnels (the load tool's audit reads PostgreSQL; the management ports), readable by
        // this user only.
        await File.WriteAllTextAsync(SecretsFile, JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["postgres_password"] = password,
            ["management_token"] = secrets["voting_management_token"],
        }));
        File.SetUnixFileMode(SecretsFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static async Task DeployAsync(string tag)
    {
        await DockerCli.RunAsync("cp", Path.Combine(Repository.Root, "deploy", "swarm", "stack.yml"), SwarmNodes.Manager + ":/stack.yml");
        var environment = new Dictionary<string, string>
        {
            ["VOTING_TAG"] = tag,
            ["VOTING_REGISTRY"] = "voting",
            ["VOTING_REDIS_IMAGE"] = SwarmImages.Image("redis", tag),
            ["VOTING_POSTGRES_IMAGE"] = SwarmImages.Image("postgres", tag),
            ["VOTING_CLUSTERING"] = Clustering,
            ["VOTING_CONSUL_REPLICAS"] = "0",
            // This kernel has no IPsec for overlay networks (DOCKER.md): the plain one.
            ["VOTING_OVERLAY"] = "plain",
            ["VOTING_WORKERS"] = "1",
            // The load tool and the tests on this machine speak for many simulated voters through the balancer, each
            // with its own address in X-Forwarded-For: the balancer believes it from this machine's address on the
            // nodes' network (its gateway), as it would from a CDN in front of it, and from nowhere else.
            ["VOTING_EDGE_TRUSTED_PROXY"] = await SwarmNodes.GatewayAsync() + "/32",
            // The receipt on the page after a vote links to the results app's /receipt page.
            ["VOTING_RESULTS_URL"] = ResultsUrl(await SwarmNodes.AddressOfAsync(SwarmNodes.Tutorial[2])).ToString(),
        };
        foreach (var name in (string[])["VOTING_APPENDFSYNC", "VOTING_REDIS_MAXMEMORY", "OPTION_A", "OPTION_B"])
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                environment[name] = value;
            }
        }

        // The images are on the nodes already (no registry): never resolve them. --prune: a service the stack no
        // longer has (the single postgres service before the formation) is removed.
        await DockerCli.OnNodeAsync(SwarmNodes.Manager, ["stack", "deploy", "--prune", "--resolve-image", "never", "-c", "/stack.yml", Stack], environment: environment);
    }

    /// <summary>
    /// Standalone socat containers on <see cref="TunnelNode"/>, on the stack's operators network, each forwarding a port of the
    /// node to one of the formation's data nodes: how the load tool's audit reads the votes from this machine, with a
    /// multi-host connection string as the applications'. They are not part of the stack.
    /// </summary>
    private static async Task StartTunnelsAsync(string tag)
    {
        // The management ports the same way: the stack never publishes them, the operators reach them from here.
        foreach (var (name, service, published, target) in PostgresNodes.Select(n => ($"{Tunnel}-{n.Service}", n.Service, n.Port, 5432))
            .Concat(ManagementTunnels.Select(t => ($"{ManagementTunnel}-{t.Service}", t.Service, t.Port, ManagementPort))))
        {
            await StartTunnelAsync(tag, name, service, published, target);
        }
    }

    private static async Task StartTunnelAsync(string tag, string name, string service, int port, int target)
    {
        var published = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var listen = target.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await DockerCli.OnNodeAsync(TunnelNode, ["rm", "-f", name], check: false);
        for (var attempt = 0; ; attempt++)
        {
            // The network reaches the node with its first task; until then it is not known there.
            var started = await DockerCli.OnNodeAsync(TunnelNode, ["run", "-d", "--name", name, "--restart", "unless-stopped", "--network", Network,
                "-p", $"{published}:{listen}", SwarmImages.Image("tunnel", tag), $"TCP-LISTEN:{listen},fork,reuseaddr", $"TCP:{service}:{listen},connect-timeout=3"], check: false);
            if (started.Succeeded)
            {
                break;
            }

            if (attempt == 60)
            {
                throw new CliException($"the tunnel to {service} did not start on node {TunnelNode}: " + started.Error.Trim());
            }

            await DockerCli.OnNodeAsync(TunnelNode, ["rm", "-f", name], check: false);
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
    }

    /// <summary>The front ends the balancer routes to, from its management port (with the management token).</summary>
    private static async Task<IReadOnlyList<string>> AvailableFrontendsAsync(SwarmEndpoints endpoints)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoints.BalancerManagement, "balancer/frontends"));
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", endpoints.ManagementToken);
            using var response = await Http.SendAsync(request);
            using var document = JsonDocument.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
            return [.. document.RootElement.GetProperty("frontends").EnumerateArray()
                // Available, and found ready by the balancer's own check (not merely not checked yet).
                .Where(f => f.GetProperty("available").GetBoolean() && f.GetProperty("active").GetString() == "Healthy")
                .Select(f => f.GetProperty("id").GetString()!)
                .Order(StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return [];
        }
    }
}

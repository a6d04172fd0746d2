using System.Globalization;

namespace Voting.Cli.Swarm;

/// <summary>
/// A node of the tutorial's cluster: its name, fixed address, the label that places its tier's services on it, the
/// images it runs, and the labels that place a member of the PostgreSQL formation on it.
/// </summary>
internal sealed record SwarmNode(string Name, int Host, string? Label, IReadOnlyList<string> Targets, IReadOnlyList<string>? PostgresLabels = null)
{
    public bool IsFrontend => Label == "voting.frontend";

    /// <summary>Every label <c>swarm up</c> gives the node (each set to <c>true</c>).</summary>
    public IEnumerable<string> Labels => [.. Label is null ? [] : new[] { Label }, .. PostgresLabels ?? []];

    /// <summary>Front-end node N (1, 2, ...): <c>frontendNN</c>, running a web front end and its Redis.</summary>
    public static SwarmNode Frontend(int index) =>
        new($"frontend{index.ToString("00", CultureInfo.InvariantCulture)}", 100 + index, "voting.frontend", ["web", "redis"]);
}

/// <summary>
/// The tutorial's nodes as Docker-in-Docker containers on one network of this machine (DOCKER.md's flags): each runs
/// a Docker engine whose state is a volume of its own, so a node stopped and started again keeps its images, its
/// Swarm membership and its services' volumes (a front end's Redis data). Everything made here carries the label
/// <c>voting.swarm</c>, which is how <c>swarm down</c> finds it, and nothing else.
/// </summary>
internal sealed class SwarmNodes(TextWriter output)
{
    public const string Network = "voting-nodes";
    public const string OwnerLabel = "voting.swarm";
    public const string Manager = "manager";

    /// <summary>
    /// The nodes <c>swarm up</c> creates: the tutorial's <c>manager</c>, <c>interlock</c>, two front ends,
    /// <c>worker01</c>, <c>store</c>. PostgreSQL's primary and standby are on <c>store</c> and <c>worker01</c>: the two
    /// nodes whose loss does not stop the intake of votes (no balancer, no front end), and two different machines; the
    /// formation's monitor is on a third, <c>manager</c>, so that either data node's loss leaves the monitor and the
    /// other data node to fail over. The operators' tunnels to PostgreSQL are on <c>interlock</c>, which no fault stops.
    /// </summary>
    public static readonly IReadOnlyList<SwarmNode> Tutorial =
    [
        new(Manager, 10, null, ["postgres"], ["voting.pgmonitor"]),
        new("interlock", 11, "voting.balancer", ["balancer", "tunnel"]),
        new("store", 12, "voting.store", ["postgres", "results"], ["voting.postgres01"]),
        new("worker01", 13, "voting.worker", ["silo", "postgres"], ["voting.postgres02"]),
        SwarmNode.Frontend(1),
        SwarmNode.Frontend(2),
    ];

    // Candidate subnets for the nodes' network, away from Docker's default ones (which the nodes' own engines use).
    private static readonly string[] Subnets = ["10.221.0", "10.222.0", "10.223.0", "10.224.0"];

    /// <summary>The nodes' network's first three octets, once it exists.</summary>
    public static async Task<string?> SubnetAsync()
    {
        var result = await DockerCli.RunAsync(["network", "inspect", Network, "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}"], check: false);
        return result.Succeeded && result.Output.Trim() is { Length: > 0 } subnet ? subnet[..subnet.LastIndexOf('.')] : null;
    }

    /// <summary>
    /// This machine's address on the nodes' network (its gateway, the subnet's first address, which the network is
    /// created with): where the operators' tools connect from.
    /// </summary>
    public static async Task<string> GatewayAsync()
    {
        var result = await DockerCli.RunAsync(["network", "inspect", Network, "--format", "{{range .IPAM.Config}}{{.Gateway}}{{end}}"], check: false);
        if (result.Succeeded && result.Output.Trim() is { Length: > 0 } gateway)
        {
            return gateway;
        }

        // Docker does not list a gateway it chose itself: the subnet's first address.
        return (await SubnetAsync() ?? throw new CliException("the Swarm nodes' network does not exist: ./voting swarm up")) + ".1";
    }

    public static async Task<string> AddressOfAsync(SwarmNode node) =>
        $"{await SubnetAsync() ?? throw new CliException("the Swarm nodes' network does not exist: ./voting swarm up")}.{node.Host}";

    /// <summary>The node containers that exist (running or not), by name.</summary>
    public static async Task<IReadOnlyDictionary<string, bool>> ExistingAsync()
    {
        var lines = (await DockerCli.RunAsync(["ps", "-a", "--filter", $"label={OwnerLabel}=node", "--format", "{{.Names}} {{.State}}"], check: false)).Lines;
        return lines.Select(l => l.Split(' ')).ToDictionary(f => f[0], f => f.Length > 1 && f[1] == "running", StringComparer.Ordinal);
    }

    /// <summary>Creates the network and the node containers, and waits until every node's engine answers.</summary>
    public async Task CreateAsync(string tag, IEnumerable<SwarmNode> nodes)
    {
        await CreateNetworkAsync();
        var created = nodes.ToArray();
        foreach (var node in created)
        {
            output.WriteLine($"  node {node.Name} ({await AddressOfAsync(node)})");
            await DockerCli.RunAsync([
                "run", "-d", "--name", node.Name, "--hostname", node.Name, "--label", $"{OwnerLabel}=node",
                "--network", Network, "--ip", await AddressOfAsync(node),
                // DOCKER.md: no --privileged in this sandbox; every capability but CAP_SYS_RESOURCE instead.
                "--cap-add=ALL", "--cap-drop=SYS_RESOURCE",
                "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--security-opt", "systempaths=unconfined",
                "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "-v", "/lib/modules:/lib/modules:ro", "--tmpfs", "/run",
                "--mount", $"type=volume,source=voting-node-{node.Name},target=/var/lib/docker,volume-label={OwnerLabel}=node",
                SwarmImages.Image("node", tag),
                "--exec-opt", "native.cgroupdriver=cgroupfs", $"--cgroup-parent=/voting-{node.Name}",
            ]);
        }

        await Task.WhenAll(created.Select(WaitForEngineAsync));
    }

    /// <summary>Makes <c>manager</c> the Swarm's manager and joins the other nodes to it, each with its label.</summary>
    public static async Task FormSwarmAsync(IEnumerable<SwarmNode> nodes)
    {
        var manager = Tutorial[0];
        var address = await AddressOfAsync(manager);
        await DockerCli.OnNodeAsync(Manager, "swarm", "init", "--advertise-addr", address);
        await JoinAsync(nodes.Where(n => n.Name != Manager));
    }

    public static async Task JoinAsync(IEnumerable<SwarmNode> nodes)
    {
        var manager = await AddressOfAsync(Tutorial[0]);
        var token = (await DockerCli.OnNodeAsync(Manager, "swarm", "join-token", "-q", "worker")).Output.Trim();
        foreach (var node in nodes)
        {
            await DockerCli.OnNodeAsync(node.Name, "swarm", "join", "--advertise-addr", await AddressOfAsync(node), "--token", token, manager + ":2377");
        }
    }

    public static async Task LabelAsync(SwarmNode node, string label) =>
        await DockerCli.OnNodeAsync(Manager, "node", "update", "--label-add", label + "=true", node.Name);

    /// <summary>True when every node runs and is a Ready member of the manager's Swarm.</summary>
    public static async Task<bool> IsWholeAsync(IEnumerable<string> names)
    {
        var existing = await ExistingAsync();
        if (!names.All(n => existing.TryGetValue(n, out var running) && running))
        {
            return false;
        }

        var nodes = await DockerCli.OnNodeAsync(Manager, ["node", "ls", "--format", "{{.Hostname}} {{.Status}}"], check: false);
        var ready = nodes.Lines.Select(l => l.Split(' ')).Where(f => f.Length == 2 && f[1] == "Ready").Select(f => f[0]).ToHashSet(StringComparer.Ordinal);
        return nodes.Succeeded && names.All(ready.Contains);
    }

    /// <summary>Removes every node container, their volumes and the network: all that carries the label.</summary>
    public static async Task RemoveAllAsync()
    {
        var containers = (await DockerCli.RunAsync(["ps", "-aq", "--filter", $"label={OwnerLabel}"], check: false)).Lines;
        if (containers.Count > 0)
        {
            await DockerCli.RunAsync(["rm", "-f", "-v", .. containers], check: false);
        }

        var volumes = (await DockerCli.RunAsync(["volume", "ls", "-q", "--filter", $"label={OwnerLabel}"], check: false)).Lines;
        if (volumes.Count > 0)
        {
            await DockerCli.RunAsync(["volume", "rm", "-f", .. volumes], check: false);
        }

        await DockerCli.RunAsync(["network", "rm", Network], check: false);
    }

    private static async Task CreateNetworkAsync()
    {
        if (await SubnetAsync() is not null)
        {
            return;
        }

        foreach (var subnet in Subnets)
        {
            var created = await DockerCli.RunAsync(["network", "create", "--label", $"{OwnerLabel}=network", "--subnet", subnet + ".0/24", "--gateway", subnet + ".1", Network], check: false);
            if (created.Succeeded)
            {
                return;
            }
        }

        throw new CliException($"no free subnet for the Swarm nodes' network among {string.Join(", ", Subnets.Select(s => s + ".0/24"))}");
    }

    private static async Task WaitForEngineAsync(SwarmNode node)
    {
        for (var attempt = 0; attempt < 120; attempt++)
        {
            if ((await DockerCli.OnNodeAsync(node.Name, ["info", "--format", "{{.ServerVersion}}"], check: false)).Succeeded)
            {
                return;
            }

            await Task.Delay(500);
        }

        var logs = await DockerCli.RunAsync(["logs", "--tail", "20", node.Name], check: false);
        throw new CliException($"the Docker engine of node {node.Name} did not start:\n{logs.Output}{logs.Error}");
    }
}

using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Voting.EndToEnd.Tests.Swarm;

/// <summary>A published port of a service: the container's port, the node's (null: one of the node's choosing), the mode.</summary>
public sealed record StackPort(int Target, int? Published, string Mode);

/// <summary>A service of <c>deploy/swarm/stack.yml</c>, as far as running it on one machine needs.</summary>
/// <param name="Name">The service's name, which is also its host name on the stack's network.</param>
/// <param name="Image">The image, e.g. <c>voting/web:latest</c>.</param>
/// <param name="Environment">Its environment, anchors merged and variables substituted (Swarm's templates, such as
/// <c>{{.Node.Hostname}}</c>, left as they are).</param>
/// <param name="Secrets">The secrets it mounts: file name under <c>/run/secrets</c> → secret.</param>
/// <param name="Mode"><c>replicated</c>, or <c>global</c>: a task on every node its constraints allow.</param>
/// <param name="Replicas">How many tasks a replicated service runs.</param>
/// <param name="Constraints">Its placement constraints.</param>
/// <param name="Hostname">Its tasks' host name (a template), or null.</param>
/// <param name="EndpointMode"><c>vip</c> or <c>dnsrr</c>.</param>
/// <param name="Ports">Its published ports.</param>
/// <param name="Networks">The networks it joins.</param>
public sealed record StackService(
    string Name,
    string Image,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyDictionary<string, string> Secrets,
    string Mode,
    int Replicas,
    IReadOnlyList<string> Constraints,
    string? Hostname,
    string EndpointMode,
    IReadOnlyList<StackPort> Ports,
    IReadOnlyList<string> Networks)
{
    /// <summary>The Dockerfile target of one of our images (<c>web</c>, <c>silo</c>, <c>redis</c>, ...); null for a stock image.</summary>
    public string? Target => Image.StartsWith("voting/", StringComparison.Ordinal) ? Image["voting/".Length..].Split(':')[0] : null;

    /// <summary>True for the four applications of this repository (not Redis, PostgreSQL or Consul).</summary>
    public bool IsApplication => Target is "web" or "silo" or "results" or "balancer";
}

/// <summary>The Swarm stack file, read as <c>docker stack deploy</c> reads it (merge keys, <c>${VAR:-default}</c>).</summary>
public sealed partial class SwarmStack
{
    private SwarmStack(IReadOnlyDictionary<string, StackService> services, IReadOnlyDictionary<string, string> subnets,
        IReadOnlySet<string> attachable, IReadOnlySet<string> secrets)
    {
        Services = services;
        Subnets = subnets;
        Attachable = attachable;
        DeclaredSecrets = secrets;
    }

    public IReadOnlyDictionary<string, StackService> Services { get; }

    /// <summary>The subnet of each network the stack declares.</summary>
    public IReadOnlyDictionary<string, string> Subnets { get; }

    /// <summary>The networks a container started by hand may join (<c>attachable: true</c>).</summary>
    public IReadOnlySet<string> Attachable { get; }

    /// <summary>The subnet of the network of that kind (<c>cluster</c>, <c>edge</c>, ...) the service joins, encrypted or plain.</summary>
    public string SubnetOf(StackService service, string kind) =>
        Subnets[service.Networks.Single(n => n.StartsWith(kind + "-", StringComparison.Ordinal))];

    public IReadOnlySet<string> DeclaredSecrets { get; }

    public static string StackFile => Path.Combine(Voting.Testing.TestDirectories.Repository, "deploy", "swarm", "stack.yml");

    /// <summary>Reads the stack with the given variables set; every other <c>${VAR:-default}</c> takes its default.</summary>
    public static SwarmStack Load(IReadOnlyDictionary<string, string>? variables = null)
    {
        var text = Variable().Replace(File.ReadAllText(StackFile), match =>
            variables?.GetValueOrDefault(match.Groups["name"].Value)
            ?? (match.Groups["default"].Success ? match.Groups["default"].Value : throw new InvalidOperationException($"{match.Value} in the stack has no default.")));
        using var reader = new StringReader(text);
        var root = (Dictionary<object, object>)new DeserializerBuilder().Build().Deserialize(new MergingParser(new Parser(reader)))!;

        var services = Map(root["services"]).ToDictionary(
            service => service.Key,
            service =>
            {
                var spec = Map(service.Value);
                var deploy = spec.TryGetValue("deploy", out var d) ? Map(d) : [];
                var placement = deploy.TryGetValue("placement", out var p) ? Map(p) : [];
                return new StackService(
                    service.Key,
                    (string)spec["image"],
                    spec.TryGetValue("environment", out var environment)
                        ? Map(environment).ToDictionary(e => e.Key, e => e.Value?.ToString() ?? "")
                        : [],
                    spec.TryGetValue("secrets", out var secrets) ? List(secrets).Select(Secret).ToDictionary(s => s.Target, s => s.Source) : [],
                    deploy.TryGetValue("mode", out var mode) ? (string)mode : "replicated",
                    deploy.TryGetValue("replicas", out var replicas) ? int.Parse((string)replicas, System.Globalization.CultureInfo.InvariantCulture) : 1,
                    placement.TryGetValue("constraints", out var constraints) ? List(constraints).Cast<string>().ToArray() : [],
                    spec.TryGetValue("hostname", out var hostname) ? (string)hostname : null,
                    deploy.TryGetValue("endpoint_mode", out var endpointMode) ? (string)endpointMode : "vip",
                    spec.TryGetValue("ports", out var ports) ? List(ports).Select(PortOf).ToArray() : [],
                    spec.TryGetValue("networks", out var networks) ? List(networks).Cast<string>().ToArray() : []);
            });

        var subnets = Map(root["networks"]).ToDictionary(
            network => network.Key,
            network => (string)Map(List(Map(Map(network.Value)["ipam"])["config"])[0])["subnet"]);
        var attachable = Map(root["networks"]).Where(n => Map(n.Value).TryGetValue("attachable", out var value) && value is "true")
            .Select(n => n.Key).ToHashSet();
        return new SwarmStack(services, subnets, attachable, Map(root["secrets"]).Keys.ToHashSet());
    }

    private static StackPort PortOf(object item)
    {
        var port = Map(item);
        return new StackPort(
            int.Parse((string)port["target"], System.Globalization.CultureInfo.InvariantCulture),
            port.TryGetValue("published", out var published) ? int.Parse((string)published, System.Globalization.CultureInfo.InvariantCulture) : null,
            port.TryGetValue("mode", out var mode) ? (string)mode : "ingress");
    }

    private static (string Target, string Source) Secret(object item) => item switch
    {
        string name => (name, name),
        _ => (Map(item).TryGetValue("target", out var target) ? (string)target : (string)Map(item)["source"], (string)Map(item)["source"]),
    };

    private static Dictionary<string, object> Map(object node) =>
        ((Dictionary<object, object>)node).ToDictionary(e => (string)e.Key, e => e.Value);

    private static List<object> List(object node) => (List<object>)node;

    [GeneratedRegex(@"\$\{(?<name>[A-Z_][A-Z0-9_]*)(?::-(?<default>[^}]*))?\}")]
    private static partial Regex Variable();
}

/// <summary>The <c>ENV</c> each target of <c>deploy/swarm/Dockerfile</c> sets, including what it inherits.</summary>
public static partial class DockerfileTargets
{
    public static string DockerfilePath => Path.Combine(Voting.Testing.TestDirectories.Repository, "deploy", "swarm", "Dockerfile");

    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ReadEnvironments()
    {
        var stages = new Dictionary<string, Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        // Continuation lines belong to the instruction before them.
        var instructions = File.ReadAllText(DockerfilePath).Replace("\\\n", " ", StringComparison.Ordinal).Split('\n');
        foreach (var line in instructions.Select(l => l.Trim()))
        {
            if (From().Match(line) is { Success: true } from)
            {
                current = stages.TryGetValue(from.Groups["base"].Value, out var parent) ? new(parent) : [];
                stages[from.Groups["stage"].Value] = current;
            }
            else if (line.StartsWith("ENV ", StringComparison.Ordinal) && current is not null)
            {
                foreach (var pair in line[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    current[pair[..equals]] = pair[(equals + 1)..];
                }
            }
        }

        return stages.ToDictionary(s => s.Key, s => (IReadOnlyDictionary<string, string>)s.Value);
    }

    [GeneratedRegex(@"^FROM\s+(?<base>\S+)\s+AS\s+(?<stage>\S+)$", RegexOptions.IgnoreCase)]
    private static partial Regex From();
}

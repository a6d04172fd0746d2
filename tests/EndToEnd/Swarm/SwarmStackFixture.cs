using System.Globalization;
using Npgsql;
using Voting.Clustering.Consul.Testing;
using Voting.Local;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Testing;

namespace Voting.EndToEnd.Tests.Swarm;

/// <summary>
/// <c>deploy/swarm/stack.yml</c> run on one machine, as far as a machine without a Docker engine can: every service
/// built from our images runs as a process with the environment its image and the stack give it and the secrets the
/// stack mounts for it (as files, like <c>/run/secrets</c>), as many replicas as the stack says. Only what a single
/// machine forces is translated: the stack's network is the loopback network (its subnet becomes 127.0.0.0/8), the
/// stock services are real local processes (PostgreSQL, one Redis per <c>redisNN</c>) or, for Consul, the strict
/// in-test implementation of its HTTP API, and each process gets ports of its own. A setting the stack forgets, or a
/// secret it does not mount, stops that process at start-up here as it would in the swarm.
/// </summary>
public sealed class SwarmStackFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly OwnedResources _owned = new();
    private readonly string _logs = TestDirectories.Create("swarm");
    private readonly List<AppProcess> _apps = [];

    public SwarmStack Stack { get; } = SwarmStack.Load();

    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Images { get; } = DockerfileTargets.ReadEnvironments();

    public InTestConsul Consul { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    /// <summary>The processes of each service of ours, by service name.</summary>
    public Dictionary<string, List<AppProcess>> Tasks { get; } = [];

    /// <summary>What each secret of the stack holds here.</summary>
    private Dictionary<string, string> SecretValues { get; } = [];

    private Dictionary<string, RedisServer> Redis { get; } = [];

    public async Task InitializeAsync()
    {
        var postgres = _owned.Own(await TestServers.StartPostgresAsync());
        var connectionString = await postgres.CreateDatabaseAsync("voting");
        Database = _owned.Own(NpgsqlDataSource.Create(connectionString));
        Consul = _owned.Own(await InTestConsul.StartAsync());
        foreach (var redis in Stack.Services.Values.Where(s => s.Image.StartsWith("redis:", StringComparison.Ordinal)))
        {
            Redis[redis.Name] = _owned.Own(await TestServers.StartRedisAsync());
        }

        // What deploy/swarm/README.md tells the operator to create.
        SecretValues["voting_postgres_connection"] = connectionString;
        SecretValues["voting_voter_cookie_key"] = TestApps.SigningKey;
        SecretValues["voting_postgres_password"] = "(read by the postgres image only)";

        // Workers first, then front ends, then their clients, as a swarm would converge anyway.
        foreach (var service in Stack.Services.Values.Where(s => s.Target is not null).OrderBy(s => s.Target switch { "silo" => 0, "web" => 1, _ => 2 }))
        {
            for (var replica = 1; replica <= service.Replicas; replica++)
            {
                var task = Start(service, replica);
                _apps.Add(_owned.Own(task));
                Tasks.TryAdd(service.Name, []);
                Tasks[service.Name].Add(task);
            }
        }

        await Task.WhenAll(_apps.Select(a => a.WaitReadyAsync(StartTimeout)));
    }

    public async Task DisposeAsync() => await _owned.DisposeAsync();

    private AppProcess Start(StackService service, int replica)
    {
        var name = service.Replicas == 1 ? service.Name : $"{service.Name}.{replica}";
        var settings = new Dictionary<string, string?>(Images[service.Target!].ToDictionary(e => e.Key, e => (string?)e.Value));
        foreach (var (key, value) in service.Environment)
        {
            settings[key] = value;
        }

        // The loopback network plays the stack's overlay network: a silo advertises its address in it.
        settings["Clustering__AdvertisedAddress"] = Translate(settings, "Clustering__AdvertisedAddress", Stack.Subnet, "127.0.0.0/8");
        settings["Clustering__Consul__Address"] = Translate(settings, "Clustering__Consul__Address", "http://consul:8500", Consul.Address);
        var ports = new AppPorts(
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
                : throw new InvalidOperationException($"{service.Name} writes to {redis}, which the stack does not run.");
        }

        // A balancer's configured front ends: the addresses their processes took here.
        foreach (var key in settings.Keys.Where(k => k.StartsWith("Balancer__Frontends__", StringComparison.Ordinal)).ToArray())
        {
            var id = key["Balancer__Frontends__".Length..];
            settings[key] = Tasks.TryGetValue(id, out var frontend) && settings[key] == Stack.Services[id].Environment["Frontend__AdvertisedUrl"]
                ? frontend[0].BaseAddress.ToString()
                : throw new InvalidOperationException($"{service.Name} routes to {id} at {settings[key]}, which is not the address that front end announces.");
        }

        // The front end announces its own address here; in the swarm, the one the stack names (checked by the tests).
        settings.Remove("Frontend__AdvertisedUrl");
        settings.Remove("Urls");
        settings["SecretsDirectory"] = SecretsFor(service, name);
        return AppProcess.Start(new AppLaunch(name, Folder(service.Target!), Assembly(service.Target!), settings, _logs, ports));
    }

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

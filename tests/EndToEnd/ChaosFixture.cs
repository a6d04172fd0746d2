using System.Text.Json;
using Npgsql;
using Voting.LoadGen;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// A whole system for fault injection: PostgreSQL, two front ends each with its own Redis, the load balancer in front
/// of them, two worker silos and the results app, every part of which a test may kill, stop or pause, and start again. Each test leaves the system
/// whole for the next one.
/// </summary>
public sealed class ChaosFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly OwnedResources _servers = new();
    private readonly HttpClient _http = TestApps.ManagementClient(TimeSpan.FromSeconds(5));
    private VotingApps _apps = null!;

    public PostgresServer Postgres { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    public string ConnectionString => _apps.ConnectionString;

    public RedisServer[] Redis { get; private set; } = [];

    /// <summary>worker01 and worker02; a test that kills one starts it again with <see cref="RestartAsync"/>.</summary>
    public AppProcess[] Workers { get; private set; } = [];

    /// <summary>frontend01 (on Redis[0]) and frontend02 (on Redis[1]).</summary>
    public AppProcess[] Frontends { get; private set; } = [];

    public AppProcess Results { get; private set; } = null!;

    public AppProcess Balancer { get; private set; } = null!;

    public VotingApps Apps => _apps;

    public async Task InitializeAsync()
    {
        var postgres = TestServers.StartPostgresAsync();
        var redis = new[] { TestServers.StartRedisAsync(), TestServers.StartRedisAsync() };
        Postgres = _servers.Own(await postgres);
        Redis = (await Task.WhenAll(redis)).Select(_servers.Own).ToArray();
        var connectionString = await Postgres.CreateDatabaseAsync("voting");
        Database = NpgsqlDataSource.Create(connectionString);
        _apps = TestApps.Create(connectionString, TestDirectories.Create("chaos"));

        // Drainers retry quickly after PostgreSQL or Redis come back.
        var worker = new Dictionary<string, string?> { ["Draining__MaxRetryDelay"] = "00:00:01" };
        Workers = [_apps.StartWorker("worker01", worker), null!];
        await Workers[0].WaitReadyAsync(StartTimeout);
        Workers[1] = _apps.StartWorker("worker02", worker);
        Frontends = [_apps.StartWeb("frontend01", Redis[0].Endpoint), _apps.StartWeb("frontend02", Redis[1].Endpoint)];
        Results = _apps.StartResults("results");
        Balancer = _apps.StartBalancer("balancer");
        await Task.WhenAll(Workers.Concat(Frontends).Append(Results).Append(Balancer).Select(a => a.WaitReadyAsync(StartTimeout)));
    }

    /// <summary>A bounded load run over both front ends (or through the balancer), audited against PostgreSQL at the end.</summary>
    public LoadOptions Load(int voters, double rate, bool throughBalancer = false) => new()
    {
        Frontends = throughBalancer ? [Balancer.BaseAddress] : Frontends.Select(f => f.BaseAddress).ToArray(),
        Results = Results.BaseAddress,
        Postgres = ConnectionString,
        Voters = voters,
        Rate = rate,
        Concurrency = 16,
        Duration = TimeSpan.FromSeconds(60),
        RequestTimeout = TimeSpan.FromSeconds(5),
        DrainTimeout = TimeSpan.FromSeconds(120),
        ProgressInterval = TimeSpan.FromSeconds(2),
    };

    /// <summary>The worker silo that runs <paramref name="frontendId"/>'s drainer now, as the workers report it.</summary>
    public async Task<AppProcess> DrainerHostAsync(string frontendId)
    {
        AppProcess? host = null;
        await Poll.UntilAsync(
            async () =>
            {
                foreach (var worker in Workers.Where(w => !w.Process.HasExited))
                {
                    try
                    {
                        var statuses = JsonDocument.Parse(await _http.GetStringAsync(new Uri(worker.ManagementAddress, "api/drainers"))).RootElement;
                        var silo = statuses.EnumerateArray().FirstOrDefault(s => s.GetProperty("frontendId").GetString() == frontendId)
                            .GetProperty("silo").GetString();
                        host = Workers.SingleOrDefault(w => silo!.Contains($":{w.SiloPort}:", StringComparison.Ordinal));
                        return host is not null;
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or KeyNotFoundException)
                    {
                        // Not registered yet, or the cluster is busy: ask again.
                    }
                }

                return false;
            },
            StartTimeout,
            $"no worker reports a drainer for {frontendId}");
        return host!;
    }

    /// <summary>Waits until the balancer routes to <paramref name="frontendId"/> (or, with <paramref name="routed"/> false, does not).</summary>
    public async Task WaitUntilBalancedAsync(string frontendId, bool routed)
    {
        var last = "";
        await Poll.UntilAsync(
            async () =>
            {
                last = await _http.GetStringAsync(new Uri(Balancer.ManagementAddress, "balancer/frontends"));
                var available = JsonDocument.Parse(last).RootElement.GetProperty("frontends").EnumerateArray()
                    .Any(f => f.GetProperty("id").GetString() == frontendId && f.GetProperty("available").GetBoolean());
                return available == routed;
            },
            StartTimeout,
            () => Task.FromResult($"the balancer {(routed ? "does not route" : "still routes")} to {frontendId}: {last}"));
    }

    /// <summary>Starts a killed worker silo or front end again, with its settings and ports, and waits until it is ready.</summary>
    public async Task RestartAsync(AppProcess app)
    {
        await app.Process.Exited;
        var again = app.StartAgain();
        await app.DisposeAsync();
        Workers = Workers.Select(w => w == app ? again : w).ToArray();
        Frontends = Frontends.Select(f => f == app ? again : f).ToArray();
        await again.WaitReadyAsync(StartTimeout);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        foreach (var app in Frontends.Concat(Workers).Append(Results).Append(Balancer).Where(a => a is not null))
        {
            await app.DisposeAsync();
        }

        await _servers.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ChaosCollection : ICollectionFixture<ChaosFixture>
{
    public const string Name = "chaos";
}

using System.Globalization;
using Npgsql;
using Voting.Testing;

namespace Voting.System.Tests;

/// <summary>
/// The whole system as separate processes on loopback, as <c>./voting up</c> runs it: PostgreSQL, a Redis per front
/// end, one worker silo, the web front ends (each co-hosting a web silo) and the results app.
/// <c>frontend03</c> is the front end whose Redis the fault tests stop.
/// </summary>
public sealed class VotingSystemFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly string _logs = TestDirectories.Create("system");
    private int _workerSiloPort;

    public static readonly string SigningKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    public PostgresServer Postgres { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    public string ConnectionString { get; private set; } = "";

    public AppProcess Worker { get; private set; } = null!;

    public AppProcess Results { get; private set; } = null!;

    /// <summary>frontend01 and frontend02, the front ends that take the load.</summary>
    public IReadOnlyList<Frontend> Frontends { get; private set; } = [];

    /// <summary>frontend03, whose Redis the fault tests stop and start.</summary>
    public Frontend Faulty { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var postgres = PostgresServer.StartAsync();
        var redis = Enumerable.Range(0, 3).Select(_ => RedisServer.StartAsync()).ToArray();
        Postgres = Own(await postgres);
        var redisServers = (await Task.WhenAll(redis)).Select(Own).ToArray();
        ConnectionString = await Postgres.CreateDatabaseAsync("voting");
        Database = NpgsqlDataSource.Create(ConnectionString);

        _workerSiloPort = FreePort.Next();
        Worker = Own(AppProcess.Start("worker", "Silo", "Voting.Silo", new Dictionary<string, string?>
        {
            ["Postgres__ConnectionString"] = ConnectionString,
            ["Clustering__Provider"] = "Localhost",
            ["Clustering__SiloPort"] = Port(_workerSiloPort),
            ["Clustering__GatewayPort"] = Port(FreePort.Next()),
            ["Draining__PollInterval"] = "00:00:00.050",
        }, _logs));
        await Worker.WaitReadyAsync(StartTimeout);

        var frontends = redisServers.Select((server, i) => StartFrontend($"frontend0{i + 1}", server)).ToArray();
        Results = Own(AppProcess.Start("results", "Results", "Voting.Results", new Dictionary<string, string?>
        {
            ["Postgres__ConnectionString"] = ConnectionString,
            ["Results__RefreshInterval"] = "00:00:00.200",
        }, _logs));
        await Task.WhenAll(frontends.Select(f => f.App.WaitReadyAsync(StartTimeout)).Append(Results.WaitReadyAsync(StartTimeout)));
        Frontends = frontends[..2];
        Faulty = frontends[2];
    }

    /// <summary>Starts one more web front end with the given settings overriding the working ones.</summary>
    public AppProcess StartWeb(string name, IReadOnlyDictionary<string, string?> overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Frontend__Id"] = name,
            ["Frontend__Redis"] = "127.0.0.1:1",
            ["VoterCookie__SigningKey"] = SigningKey,
            ["Clustering__Provider"] = "Localhost",
            ["Clustering__SiloPort"] = Port(FreePort.Next()),
            ["Clustering__GatewayPort"] = "0",
            ["Clustering__PrimarySiloEndpoint"] = $"127.0.0.1:{Port(_workerSiloPort)}",
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return AppProcess.Start(name, "Web", "Voting.Web", settings, _logs);
    }

    /// <summary>Starts the worker silo's program with settings of the test's choosing (for start-up validation).</summary>
    public AppProcess StartWorker(string name, IReadOnlyDictionary<string, string?> settings) =>
        AppProcess.Start(name, "Silo", "Voting.Silo", settings, _logs);

    public async Task DisposeAsync()
    {
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        // Applications first, then the servers they use.
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
    }

    private Frontend StartFrontend(string id, RedisServer redis)
    {
        var app = Own(StartWeb(id, new Dictionary<string, string?> { ["Frontend__Redis"] = redis.Endpoint }));
        return new Frontend(id, app, redis);
    }

    private T Own<T>(T resource)
        where T : IAsyncDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A web front end process and its own Redis.</summary>
public sealed record Frontend(string Id, AppProcess App, RedisServer Redis);

[CollectionDefinition(Name)]
public sealed class VotingSystemCollection : ICollectionFixture<VotingSystemFixture>
{
    public const string Name = "voting system";
}

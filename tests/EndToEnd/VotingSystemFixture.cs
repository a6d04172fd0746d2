using Npgsql;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The whole system as separate processes on loopback, as <c>./voting up</c> runs it: PostgreSQL (votes and the
/// Orleans membership table), a Redis per front end, one worker silo, the web front ends (each co-hosting a web
/// silo), the load balancer in front of them and the results app. <c>frontend03</c> is the front end whose Redis the
/// fault tests stop.
/// </summary>
public sealed class VotingSystemFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly OwnedResources _owned = new();
    private readonly string _logs = TestDirectories.Create("system");

    public PostgresServer Postgres { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    public VotingApps Apps { get; private set; } = null!;

    public string ConnectionString => Apps.ConnectionString;

    public AppProcess Worker { get; private set; } = null!;

    public AppProcess Results { get; private set; } = null!;

    public AppProcess Balancer { get; private set; } = null!;

    /// <summary>frontend01 and frontend02, the front ends that take the load.</summary>
    public IReadOnlyList<Frontend> Frontends { get; private set; } = [];

    /// <summary>frontend03, whose Redis the fault tests stop and start.</summary>
    public Frontend Faulty { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var postgres = TestServers.StartPostgresAsync();
        var redis = Enumerable.Range(0, 3).Select(_ => TestServers.StartRedisAsync()).ToArray();
        Postgres = Own(await postgres);
        var redisServers = (await Task.WhenAll(redis)).Select(Own).ToArray();
        var connectionString = await Postgres.CreateDatabaseAsync("voting");
        Database = Own(NpgsqlDataSource.Create(connectionString));
        Apps = TestApps.Create(connectionString, _logs);

        Worker = Own(Apps.StartWorker("worker01"));
        await Worker.WaitReadyAsync(StartTimeout);
        var frontends = redisServers.Select((server, i) => new Frontend($"frontend0{i + 1}", Own(Apps.StartWeb($"frontend0{i + 1}", server.Endpoint)), server)).ToArray();
        Results = Own(Apps.StartResults("results"));
        Balancer = Own(Apps.StartBalancer("balancer"));
        await Task.WhenAll(frontends.Select(f => f.App.WaitReadyAsync(StartTimeout))
            .Append(Results.WaitReadyAsync(StartTimeout)).Append(Balancer.WaitReadyAsync(StartTimeout)));
        Frontends = frontends[..2];
        Faulty = frontends[2];
    }

    // In reverse order: the applications, then the data source, then the servers.
    public async Task DisposeAsync() => await _owned.DisposeAsync();

    private T Own<T>(T resource)
        where T : IAsyncDisposable => _owned.Own(resource);
}

/// <summary>A web front end process and its own Redis.</summary>
public sealed record Frontend(string Id, AppProcess App, RedisServer Redis);

[CollectionDefinition(Name)]
public sealed class VotingSystemCollection : ICollectionFixture<VotingSystemFixture>
{
    public const string Name = "voting system";
}

using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.TestingHost;
using StackExchange.Redis;
using Voting.Grains.Draining;
using Voting.Grains.Polling;
using Voting.Grains.Registry;
using Voting.Local.Servers;
using Voting.Storage.Postgres;
using Voting.Testing;

namespace Voting.Grains.Tests;

/// <summary>
/// One worker cluster for the whole assembly: two silos on Orleans' TestCluster, a real Redis and a real PostgreSQL.
/// The voter-identity shards are deliberately few and forgetful (4 shards of 16 voters), so every test also proves
/// that a shard losing its memory never changes a count.
/// </summary>
public sealed class WorkerClusterFixture : IAsyncLifetime
{
    public const int ShardCount = 4;
    public const int MaxVotersPerShard = 16;

    /// <summary>The test Redis's ACL users, for the fake front ends' streams <c>votes:{id}</c>.</summary>
    public static readonly RedisAccounts RedisAccounts = TestApps.RedisAccounts with { StreamKey = "votes:*" };

    /// <summary>The drainers' credentials, as a worker silo's settings give them.</summary>
    public static readonly DrainerRedisOptions DrainerRedis = new()
    {
        RedisUser = RedisAccounts.Drainer.User,
        RedisPassword = RedisAccounts.Drainer.Password,
    };

    public RedisServer Redis { get; private set; } = null!;

    public PostgresServer Postgres { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    public ConnectionMultiplexer RedisConnection { get; private set; } = null!;

    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    public async Task InitializeAsync()
    {
        var redis = TestServers.StartRedisAsync(accounts: RedisAccounts);
        var postgres = TestServers.StartPostgresAsync();
        Redis = await redis;
        Postgres = await postgres;
        var connectionString = await Postgres.CreateDatabaseAsync("voting");
        Database = NpgsqlDataSource.Create(connectionString);
        await VotingSchema.EnsureAsync(Database, CancellationToken.None);
        RedisConnection = await Redis.ConnectAsync();

        var builder = new TestClusterBuilder(2);
        builder.Properties["Postgres:ConnectionString"] = connectionString;
        builder.Properties["Drainers:RedisUser"] = DrainerRedis.RedisUser;
        builder.Properties["Drainers:RedisPassword"] = DrainerRedis.RedisPassword;
        builder.Properties["Draining:PollInterval"] = "00:00:00.020";
        builder.Properties["Registry:RunningWindow"] = "00:00:01";
        builder.Properties["Draining:MinRetryDelay"] = "00:00:00.050";
        builder.Properties["Draining:MaxRetryDelay"] = "00:00:00.500";
        builder.Properties["Draining:ShardCount"] = ShardCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Properties["VoterIdentity:MaxVotersPerShard"] = MaxVotersPerShard.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.AddSiloBuilderConfigurator<WorkerSiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await RedisConnection.DisposeAsync();
        await Database.DisposeAsync();
        await Redis.DisposeAsync();
        await Postgres.DisposeAsync();
    }

    private sealed class WorkerSiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.Services.AddVotingWorkerGrains();
            siloBuilder.Services.AddSingleton(_ => NpgsqlDataSource.Create(siloBuilder.Configuration["Postgres:ConnectionString"]!));
            siloBuilder.AddMemoryGrainStorage(RegistryOptions.StorageName);
            siloBuilder.AddMemoryGrainStorage(PollDefaults.StorageName);
            siloBuilder.Services.AddSingleton(PollGrainTests.Defaults);
            siloBuilder.UseInMemoryReminderService();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class WorkerClusterCollection : ICollectionFixture<WorkerClusterFixture>
{
    public const string Name = "worker cluster";
}

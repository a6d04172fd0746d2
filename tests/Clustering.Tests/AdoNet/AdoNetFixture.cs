using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.TestingHost;
using Voting.Clustering.AdoNet;
using Voting.Local.Servers;
using Voting.Testing;

namespace Voting.Clustering.Tests.AdoNet;

/// <summary>
/// One real PostgreSQL server for the ADO.NET tests, and on it a two-silo TestCluster whose silos keep membership,
/// grain state and reminders in database <see cref="DatabaseName"/> through Orleans' real ADO.NET providers. Nobody
/// creates the schema beforehand: the silos do it at start-up, as deployed silos do.
/// </summary>
public sealed class AdoNetFixture : IAsyncLifetime
{
    public const string DatabaseName = "orleans_cluster";
    public const string StorageName = "postgres";
    public const string DeletingStorageName = "postgres-deleting";
    private const string ConnectionStringKey = "AdoNetTests:ConnectionString";

    private PostgresServer? _server;
    private TestCluster? _cluster;
    private NpgsqlDataSource? _dataSource;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public TestCluster Cluster => _cluster ?? throw new InvalidOperationException("Not started.");

    /// <summary>The cluster's database.</summary>
    public string ConnectionString { get; private set; } = "";

    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("Not started.");

    public string ClusterId => Cluster.Options.ClusterId;

    public string ServiceId => Cluster.Options.ServiceId;

    /// <summary>A service of the first silo, e.g. the provider behind an interface.</summary>
    public T SiloService<T>()
        where T : notnull => PrimaryServices.GetRequiredService<T>();

    public T SiloKeyedService<T>(string key)
        where T : notnull => PrimaryServices.GetRequiredKeyedService<T>(key);

    private IServiceProvider PrimaryServices =>
        (Cluster.Silos[0] as InProcessSiloHandle
         ?? throw new InvalidOperationException($"The first silo is a {Cluster.Silos[0].GetType()}, not in this process.")).ServiceProvider;

    public async Task InitializeAsync()
    {
        _server = await TestServers.StartPostgresAsync();
        ConnectionString = await _server.CreateDatabaseAsync(DatabaseName);
        _dataSource = NpgsqlDataSource.Create(ConnectionString);

        var builder = new TestClusterBuilder(2);
        builder.Options.UseTestClusterMembership = false;
        builder.Properties[ConnectionStringKey] = ConnectionString;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        await _cluster.WaitUntilEverySiloIsActiveAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.StopAllSilosAsync();
            await _cluster.DisposeAsync();
        }

        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var connectionString = siloBuilder.Configuration[ConnectionStringKey]!;
            siloBuilder
                .UsePostgresClustering(connectionString)
                .AddPostgresGrainStorage(StorageName, connectionString)
                .AddPostgresGrainStorage(DeletingStorageName, connectionString, deleteStateOnClear: true)
                .UsePostgresReminderService(connectionString)
                // Reminders fire at most once a minute by default; a test should not wait that long for one.
                .Configure<ReminderOptions>(options => options.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UsePostgresClustering(configuration[ConnectionStringKey]!);
    }
}

[CollectionDefinition(Name)]
public sealed class AdoNetCollection : ICollectionFixture<AdoNetFixture>
{
    public const string Name = "AdoNet";
}

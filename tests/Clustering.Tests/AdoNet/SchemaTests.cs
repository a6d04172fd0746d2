using System.Reflection;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService;
using Orleans.Storage;
using Voting.Clustering.AdoNet;

namespace Voting.Clustering.Tests.AdoNet;

[Collection(AdoNetCollection.Name)]
public sealed class SchemaTests(AdoNetFixture fixture)
{
    [Fact]
    public async Task ConcurrentAndRepeatedEnsureAppliesEachScriptOnce()
    {
        await using var dataSource = NpgsqlDataSource.Create(await fixture.Server.CreateDatabaseAsync("schema_concurrent"));

        var applied = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => OrleansAdoNetSchema.EnsureAsync(dataSource, CancellationToken.None))));
        Assert.Equal(OrleansAdoNetSchema.Migrations.Count, applied.Sum());
        Assert.Equal(OrleansAdoNetSchema.Migrations.Count, applied.Max());

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(0, await OrleansAdoNetSchema.EnsureAsync(dataSource, CancellationToken.None));
        }

        var recorded = await ScalarAsync<long>(dataSource, "SELECT count(*) FROM schema_migrations WHERE component = 'orleans'");
        Assert.Equal(OrleansAdoNetSchema.Migrations.Count, recorded);
    }

    [Fact]
    public async Task ScriptsRunAgainOverAnExistingSchema()
    {
        // A schema created before the migration records existed (or by hand) must not stop the scripts: every one
        // of them creates only what is missing and replaces functions and query texts.
        await using var dataSource = NpgsqlDataSource.Create(await fixture.Server.CreateDatabaseAsync("schema_rerun"));
        for (var round = 0; round < 2; round++)
        {
            foreach (var migration in OrleansAdoNetSchema.Migrations.OrderBy(m => m.Version))
            {
                await using var command = dataSource.CreateCommand(migration.Sql);
                await command.ExecuteNonQueryAsync();
            }
        }

        Assert.Equal(QueryKeysTheProvidersRead().Count, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM OrleansQuery"));
    }

    [Fact]
    public async Task SilosCreatedTheSchemaAtStartUp()
    {
        var versions = new List<int>();
        await using var command = fixture.DataSource.CreateCommand("SELECT version FROM schema_migrations WHERE component = 'orleans' ORDER BY version");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt32(0));
        }

        Assert.Equal(OrleansAdoNetSchema.Migrations.Select(m => m.Version).Order(), versions);
    }

    [Fact]
    public async Task EveryQueryKeyTheProvidersReadIsInstalled()
    {
        var installed = new HashSet<string>(StringComparer.Ordinal);
        await using var command = fixture.DataSource.CreateCommand("SELECT QueryKey FROM OrleansQuery");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            installed.Add(reader.GetString(0));
        }

        var expected = QueryKeysTheProvidersRead();
        Assert.Empty(expected.Except(installed));
        Assert.Empty(installed.Except(expected));
    }

    /// <summary>
    /// The query keys of the provider packages in use, read from the packages themselves: each provider's internal
    /// DbStoredQueries has one property per required key, the grain storage names its keys in its initialisation
    /// query, and the clustering provider also looks up the optional per-row cleanup key.
    /// </summary>
    private static HashSet<string> QueryKeysTheProvidersRead()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal) { "CleanupDefunctSiloEntryKey" };
        foreach (var (assembly, typeName) in new[]
        {
            (typeof(AdoNetClusteringTable).Assembly, "Orleans.Clustering.AdoNet.Storage.DbStoredQueries"),
            (typeof(AdoNetReminderTableOptions).Assembly, "Orleans.Reminders.AdoNet.Storage.DbStoredQueries"),
        })
        {
            var type = assembly.GetType(typeName, throwOnError: true)!;
            keys.UnionWith(type.GetProperties(BindingFlags.Instance | BindingFlags.NonPublic).Select(p => p.Name));
        }

        foreach (var part in AdoNetGrainStorage.DefaultInitializationQuery.Split('\''))
        {
            if (part.EndsWith("StorageKey", StringComparison.Ordinal))
            {
                keys.Add(part);
            }
        }

        Assert.Equal(21, keys.Count);
        return keys;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}

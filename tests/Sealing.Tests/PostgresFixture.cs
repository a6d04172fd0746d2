using Npgsql;
using Voting.Local.Servers;
using Voting.Storage.Postgres;
using Voting.Testing;

namespace Voting.Sealing.Tests;

/// <summary>One real PostgreSQL with the service roles for the assembly; each test takes a database of its own.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Postgres { get; private set; } = null!;

    public async Task InitializeAsync() => Postgres = await TestServers.StartPostgresAsync();

    public async Task DisposeAsync() => await Postgres.DisposeAsync();

    /// <summary>A new database with the votes schema (migrated by its owner), as <paramref name="role"/> sees it.</summary>
    public async Task<NpgsqlDataSource> CreateDatabaseAsync(string role)
    {
        var name = "seal_" + Guid.NewGuid().ToString("N")[..8];
        await Postgres.CreateDatabaseAsync(name);
        await using (var owner = NpgsqlDataSource.Create(Postgres.ConnectionString(name, PostgresRoles.Owner)))
        {
            await VotingSchema.EnsureAsync(owner, CancellationToken.None);
        }

        return NpgsqlDataSource.Create(Postgres.ConnectionString(name, role));
    }

    public NpgsqlDataSource Connect(NpgsqlDataSource database, string role) =>
        NpgsqlDataSource.Create(Postgres.ConnectionString(new NpgsqlConnectionStringBuilder(database.ConnectionString).Database!, role));
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

using Npgsql;
using Voting.Storage.Postgres;

namespace Voting.Clustering.AdoNet;

/// <summary>
/// The PostgreSQL schema that Orleans' ADO.NET providers (membership, grain storage, reminders) need: their tables and
/// the <c>OrleansQuery</c> catalogue of the statements they run. The scripts are this assembly's embedded
/// <c>Migrations/NNNN-*.sql</c>, applied once each under component <see cref="Component"/>.
/// </summary>
public static class OrleansAdoNetSchema
{
    public const string Component = "orleans";

    private const string ResourcePrefix = "Voting.Clustering.OrleansAdoNet.Migrations.";

    public static IReadOnlyList<SchemaMigrator.Migration> Migrations { get; } =
        SchemaMigrator.FromEmbeddedResources(typeof(OrleansAdoNetSchema).Assembly, ResourcePrefix, Component);

    /// <summary>
    /// Creates or migrates the schema. Safe to call from every process at every start, also at the same moment:
    /// <see cref="SchemaMigrator"/> serialises the callers and applies each script once, through
    /// <paramref name="migrator"/> (the schema owner's connection) when given. Returns how many scripts this call applied.
    /// </summary>
    public static Task<int> EnsureAsync(NpgsqlDataSource dataSource, CancellationToken ct, NpgsqlDataSource? migrator = null) =>
        SchemaMigrator.EnsureAsync(dataSource, Migrations, migrator, ct);
}

using Npgsql;

namespace Voting.Storage.Postgres;

/// <summary>The <c>votes</c> and <c>tallies</c> tables, created or migrated by whichever process starts first.</summary>
public static class VotingSchema
{
    public const string Component = "voting";

    public static IReadOnlyList<SchemaMigrator.Migration> Migrations { get; } =
        SchemaMigrator.FromEmbeddedResources(typeof(VotingSchema).Assembly, "Voting.Storage.Migrations.", Component);

    /// <summary>
    /// Creates or migrates the schema, through <paramref name="migrator"/> (the schema owner's connection) when
    /// given; see <see cref="SchemaMigrator.EnsureAsync"/>. Returns how many scripts this call applied.
    /// </summary>
    public static Task<int> EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken, NpgsqlDataSource? migrator = null) =>
        SchemaMigrator.EnsureAsync(dataSource, Migrations, migrator, cancellationToken);
}

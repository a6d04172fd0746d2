using Npgsql;

namespace Voting.Storage.Postgres;

/// <summary>The <c>votes</c> and <c>tallies</c> tables, created or migrated by whichever process starts first.</summary>
public static class VotingSchema
{
    public const string Component = "voting";

    public static IReadOnlyList<SchemaMigrator.Migration> Migrations { get; } =
        SchemaMigrator.FromEmbeddedResources(typeof(VotingSchema).Assembly, "Voting.Storage.Migrations.", Component);

    public static Task<int> EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        SchemaMigrator.ApplyAsync(dataSource, Migrations, cancellationToken);
}

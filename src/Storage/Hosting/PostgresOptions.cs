namespace Voting.Storage.Hosting;

/// <summary>Where the votes database is (section <c>Postgres</c>).</summary>
public sealed class PostgresOptions
{
    public const string SectionName = "Postgres";

    /// <summary>An Npgsql connection string, e.g. <c>Host=127.0.0.1;Port=5432;Database=voting;Username=voting</c>.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// The schema owner's connection (role <c>voting_owner</c>), with which this process creates or migrates the
    /// schema at start-up; only the worker silos have it. Without it the process waits until the schema is there,
    /// connecting as its own role (<see cref="ConnectionString"/>), which may create nothing.
    /// </summary>
    public string? MigrationConnectionString { get; set; }
}

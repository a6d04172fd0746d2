namespace Voting.Storage.Hosting;

/// <summary>Where the votes database is (section <c>Postgres</c>).</summary>
public sealed class PostgresOptions
{
    public const string SectionName = "Postgres";

    /// <summary>An Npgsql connection string, e.g. <c>Host=127.0.0.1;Port=5432;Database=voting;Username=voting</c>.</summary>
    public string ConnectionString { get; set; } = "";
}

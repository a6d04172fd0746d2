using System.Reflection;
using Npgsql;

namespace Voting.Storage.Postgres;

/// <summary>
/// Applies numbered SQL scripts once each, in order, recording them in <c>schema_migrations</c>. Every process may
/// call it at start-up at the same moment: a transaction-scoped advisory lock lets one of them work while the
/// others wait, and then find nothing left to do.
/// </summary>
public static class SchemaMigrator
{
    private const long AdvisoryLockKey = 0x566F74696E67; // "Voting"

    /// <summary>A script and its place in the order.</summary>
    public sealed record Migration(string Component, int Version, string Name, string Sql);

    /// <summary>
    /// Makes sure every script is applied: nothing to do (and no privilege needed but reading
    /// <c>schema_migrations</c>) when they are, else <see cref="ApplyAsync"/> through <paramref name="migrator"/>, the
    /// schema owner's connection, or, without one, through <paramref name="dataSource"/> itself. A service's own login
    /// role may create nothing (docs/SECURITY.md): until the owner migrated, it gets PostgreSQL's "permission denied"
    /// (<see cref="IsWaitingForTheOwner"/>), and its caller waits and asks again.
    /// </summary>
    public static async Task<int> EnsureAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<Migration> migrations, NpgsqlDataSource? migrator, CancellationToken cancellationToken)
    {
        if ((await MissingAsync(dataSource, migrations, cancellationToken)).Count == 0)
        {
            return 0;
        }

        return await ApplyAsync(migrator ?? dataSource, migrations, cancellationToken);
    }

    /// <summary>The scripts of <paramref name="migrations"/> that <c>schema_migrations</c> does not list (all of them before the first).</summary>
    public static async Task<IReadOnlyList<Migration>> MissingAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        var applied = new HashSet<(string, int)>();
        try
        {
            await using var command = dataSource.CreateCommand("SELECT component, version FROM schema_migrations");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add((reader.GetString(0), reader.GetInt32(1)));
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // Nothing was ever applied.
        }

        return [.. migrations.Where(m => !applied.Contains((m.Component, m.Version)))];
    }

    /// <summary>
    /// The failure of a service's login role that found scripts missing and may not apply them: it waits for the
    /// schema owner (the worker, with <c>Postgres:MigrationConnectionString</c>) to apply them.
    /// </summary>
    public static bool IsWaitingForTheOwner(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege };

    public static async Task<int> ApplyAsync(NpgsqlDataSource dataSource, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using (var command = new NpgsqlCommand(
            """
            SELECT pg_advisory_xact_lock(@key);
            CREATE TABLE IF NOT EXISTS schema_migrations (
                component  text        NOT NULL,
                version    int         NOT NULL,
                name       text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (component, version)
            );
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("key", AdvisoryLockKey);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var applied = new HashSet<(string, int)>();
        await using (var command = new NpgsqlCommand("SELECT component, version FROM schema_migrations", connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add((reader.GetString(0), reader.GetInt32(1)));
            }
        }

        var count = 0;
        foreach (var migration in migrations.OrderBy(m => m.Component, StringComparer.Ordinal).ThenBy(m => m.Version))
        {
            if (applied.Contains((migration.Component, migration.Version)))
            {
                continue;
            }

            await using (var script = new NpgsqlCommand(migration.Sql, connection, transaction))
            {
                await script.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var record = new NpgsqlCommand(
                "INSERT INTO schema_migrations (component, version, name) VALUES (@component, @version, @name)", connection, transaction))
            {
                record.Parameters.AddWithValue("component", migration.Component);
                record.Parameters.AddWithValue("version", migration.Version);
                record.Parameters.AddWithValue("name", migration.Name);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            count++;
        }

        await transaction.CommitAsync(cancellationToken);
        return count;
    }

    /// <summary>
    /// Reads the scripts embedded in <paramref name="assembly"/> whose resource names start with
    /// <paramref name="prefix"/> and look like <c>NNNN-name.sql</c>.
    /// </summary>
    public static IReadOnlyList<Migration> FromEmbeddedResources(Assembly assembly, string prefix, string component)
    {
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[prefix.Length..^".sql".Length];
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(name.AsSpan(0, dash), out var version))
            {
                throw new InvalidOperationException($"Migration resource '{resource}' must be named NNNN-description.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(component, version, name, reader.ReadToEnd()));
        }

        return migrations;
    }
}

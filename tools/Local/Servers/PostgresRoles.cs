using Npgsql;

namespace Voting.Local.Servers;

/// <summary>
/// The login roles of the votes database (docs/SECURITY.md) and their passwords: the schema's owner, which the
/// workers migrate with, and one role per service with exactly the grants the migrations give it
/// (src/Storage/Postgres/Migrations/0003-service-roles.sql, src/Clustering/AdoNet/Migrations/0005-service-roles.sql).
/// No application gets the superuser. deploy/swarm/postgres/entrypoint.sh creates the same roles in the stack.
/// </summary>
public sealed record PostgresRoles(string OwnerPassword, string WorkerPassword, string WebPassword, string ResultsPassword, string BalancerPassword)
{
    public const string Owner = "voting_owner";
    public const string Worker = "voting_worker";
    public const string Web = "voting_web";
    public const string Results = "voting_results";
    public const string Balancer = "voting_balancer";

    /// <summary>Each role with its password.</summary>
    public IReadOnlyList<(string Role, string Password)> All =>
        [(Owner, OwnerPassword), (Worker, WorkerPassword), (Web, WebPassword), (Results, ResultsPassword), (Balancer, BalancerPassword)];

    /// <summary>
    /// The roles whose passwords are kept in <paramref name="directory"/> (one file each, readable by this user only),
    /// made there first if they are not.
    /// </summary>
    public static PostgresRoles ReadOrCreate(string directory)
    {
        string Password(string role) => Secret.ReadOrCreate(Path.Combine(directory, $"postgres-{role}.password"));
        return new PostgresRoles(Password(Owner), Password(Worker), Password(Web), Password(Results), Password(Balancer));
    }

    /// <summary><paramref name="connectionString"/> (the superuser's, say) as <paramref name="role"/>, with its password.</summary>
    public string As(string connectionString, string role) => new NpgsqlConnectionStringBuilder(connectionString)
    {
        Username = role,
        Password = All.Single(r => r.Role == role).Password,
    }.ConnectionString;

    /// <summary>
    /// Creates the roles (or sets their passwords again) through a superuser's connection to the server. Roles belong
    /// to the server, so this comes before any migration that grants to them.
    /// </summary>
    public async Task EnsureAsync(string superuserConnectionString)
    {
        await using var connection = new NpgsqlConnection(superuserConnectionString);
        await connection.OpenAsync();
        foreach (var (role, password) in All)
        {
            // Concurrent fixtures may create the same role at the same moment: the loser's unique violation is benign.
            await using (var create = new NpgsqlCommand(
                $"""
                DO $$ BEGIN
                  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} LOGIN; END IF;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END $$
                """, connection))
            {
                await create.ExecuteNonQueryAsync();
            }

            // A utility statement takes no parameters: the password (base64url, or a test's letters and dashes) is
            // quoted as a literal.
            await using var alter = new NpgsqlCommand($"ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password.Replace("'", "''", StringComparison.Ordinal)}'", connection);
            await alter.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// Makes <see cref="Owner"/> the owner of <paramref name="database"/> (so it may create in its <c>public</c> schema)
    /// and of every table and function already in it: a database created before the roles existed was migrated by the
    /// superuser, and the owner must own a table to grant on it.
    /// </summary>
    public static async Task HandOverAsync(string superuserConnectionString, string database)
    {
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(superuserConnectionString) { Database = "postgres" }.ConnectionString))
        {
            await connection.OpenAsync();
            await using var owner = new NpgsqlCommand($"ALTER DATABASE \"{database}\" OWNER TO {Owner}", connection);
            await owner.ExecuteNonQueryAsync();
        }

        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(superuserConnectionString) { Database = database }.ConnectionString))
        {
            await connection.OpenAsync();
            await using var objects = new NpgsqlCommand(
                $"""
                DO $$
                DECLARE item record;
                BEGIN
                  FOR item IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> '{Owner}' LOOP
                    EXECUTE format('ALTER TABLE %s OWNER TO {Owner}', item.name);
                  END LOOP;
                  FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                              WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '{Owner}' LOOP
                    EXECUTE format('ALTER FUNCTION %s OWNER TO {Owner}', item.name);
                  END LOOP;
                END $$
                """, connection);
            await objects.ExecuteNonQueryAsync();
        }
    }
}

using Npgsql;
using Voting.Clustering.AdoNet;
using Voting.Local.Servers;
using Voting.Storage.Postgres;
using Voting.Testing;

namespace Voting.Clustering.Tests.AdoNet;

/// <summary>
/// One PostgreSQL login role per service, each with exactly its grants (docs/SECURITY.md), on a database migrated by
/// the schema owner: real PostgreSQL answers "permission denied" to anything more.
/// </summary>
public sealed class ServiceRolesTests : IAsyncLifetime
{
    private PostgresServer _postgres = null!;
    private string _database = null!;

    public async Task InitializeAsync()
    {
        _postgres = await TestServers.StartPostgresAsync();
        _database = await _postgres.CreateDatabaseAsync("voting");
        await using var owner = NpgsqlDataSource.Create(_postgres.ConnectionString("voting", PostgresRoles.Owner));
        await VotingSchema.EnsureAsync(owner, CancellationToken.None);
        await OrleansAdoNetSchema.EnsureAsync(owner, CancellationToken.None);
        await using var vote = owner.CreateCommand(
            "INSERT INTO votes (voter_id, option, voted_at, vote_id, frontend_id) VALUES (gen_random_uuid(), 'a', now(), gen_random_uuid(), 'frontend01')");
        await vote.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _postgres.DisposeAsync();

    [Fact]
    public async Task TheResultsRoleReadsTheTalliesAndCannotReadWriteOrDeleteVotes()
    {
        Assert.Equal(1L, await ScalarAsync(PostgresRoles.Results, "SELECT sum(count)::bigint FROM tallies"));
        await AssertDeniedAsync(PostgresRoles.Results, "SELECT count(*) FROM votes");
        await AssertDeniedAsync(PostgresRoles.Results,
            "INSERT INTO votes (voter_id, option, voted_at, vote_id, frontend_id) VALUES (gen_random_uuid(), 'b', now(), gen_random_uuid(), 'x')");
        await AssertDeniedAsync(PostgresRoles.Results, "DELETE FROM votes");
        await AssertDeniedAsync(PostgresRoles.Results, "UPDATE tallies SET count = count + 1000");
    }

    [Fact]
    public async Task TheFrontEndRoleHasOrleansTablesOnlyAndCannotReadVotesOrTallies()
    {
        Assert.Equal(0L, await ScalarAsync(PostgresRoles.Web, "SELECT count(*) FROM orleans_membership"));
        await AssertDeniedAsync(PostgresRoles.Web, "SELECT count(*) FROM votes");
        await AssertDeniedAsync(PostgresRoles.Web, "SELECT count(*) FROM tallies");
        await AssertDeniedAsync(PostgresRoles.Web, "SELECT count(*) FROM orleans_grain_state");
    }

    [Fact]
    public async Task TheBalancerRoleOnlyReadsTheMembershipTable()
    {
        Assert.Equal(0L, await ScalarAsync(PostgresRoles.Balancer, "SELECT count(*) FROM orleans_membership"));
        await AssertDeniedAsync(PostgresRoles.Balancer, "DELETE FROM orleans_membership");
        await AssertDeniedAsync(PostgresRoles.Balancer, "SELECT count(*) FROM orleans_reminders");
        await AssertDeniedAsync(PostgresRoles.Balancer, "SELECT count(*) FROM tallies");
    }

    [Fact]
    public async Task TheWorkerRoleUpsertsVotesButCannotDeleteThemOrChangeTheSchema()
    {
        Assert.Equal(1, await ExecuteAsync(PostgresRoles.Worker,
            "INSERT INTO votes (voter_id, option, voted_at, vote_id, frontend_id) VALUES (gen_random_uuid(), 'b', now(), gen_random_uuid(), 'frontend01')"));
        Assert.Equal(2L, await ScalarAsync(PostgresRoles.Worker, "SELECT sum(count)::bigint FROM tallies"));
        await AssertDeniedAsync(PostgresRoles.Worker, "DELETE FROM votes");
        await AssertDeniedAsync(PostgresRoles.Worker, "TRUNCATE votes");
        await AssertDeniedAsync(PostgresRoles.Worker, "DROP TABLE votes");
        await AssertDeniedAsync(PostgresRoles.Worker, "CREATE TABLE elsewhere (id int)");
    }

    [Fact]
    public async Task NoServiceRoleIsASuperuserOrMayCreateRolesOrDatabases()
    {
        var roles = TestApps.PostgresRoles.All.Select(r => r.Role).ToArray();
        await using var superuser = NpgsqlDataSource.Create(_database);
        await using var command = superuser.CreateCommand(
            "SELECT count(*) FROM pg_roles WHERE rolname = ANY(@roles) AND NOT (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls)");
        command.Parameters.AddWithValue("roles", roles);
        Assert.Equal((long)roles.Length, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task AServiceRoleOnAnUnmigratedDatabaseWaitsForTheOwnerWhoMigratesIt()
    {
        await _postgres.CreateDatabaseAsync("fresh");
        await using var results = NpgsqlDataSource.Create(_postgres.ConnectionString("fresh", PostgresRoles.Results));
        var denied = await Assert.ThrowsAsync<PostgresException>(() => VotingSchema.EnsureAsync(results, CancellationToken.None));
        Assert.True(SchemaMigrator.IsWaitingForTheOwner(denied), denied.Message);

        await using var owner = NpgsqlDataSource.Create(_postgres.ConnectionString("fresh", PostgresRoles.Owner));
        Assert.Equal(VotingSchema.Migrations.Count, await VotingSchema.EnsureAsync(results, CancellationToken.None, migrator: owner));
        Assert.Equal(0, await VotingSchema.EnsureAsync(results, CancellationToken.None));
    }

    [Fact]
    public async Task AServiceRoleWithAWrongPasswordIsRefused()
    {
        var wrong = new NpgsqlConnectionStringBuilder(_postgres.ConnectionString("voting", PostgresRoles.Results)) { Password = "not-the-password" };
        await using var connection = new NpgsqlConnection(wrong.ConnectionString);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);
    }

    private async Task<object?> ScalarAsync(string role, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(_postgres.ConnectionString("voting", role));
        await using var command = dataSource.CreateCommand(sql);
        return await command.ExecuteScalarAsync();
    }

    private async Task<int> ExecuteAsync(string role, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(_postgres.ConnectionString("voting", role));
        await using var command = dataSource.CreateCommand(sql);
        return await command.ExecuteNonQueryAsync();
    }

    private async Task AssertDeniedAsync(string role, string sql)
    {
        var denied = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(role, sql));
        Assert.True(denied.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{role}: {sql}: {denied.SqlState} {denied.MessageText}");
    }
}

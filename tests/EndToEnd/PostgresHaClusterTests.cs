using Npgsql;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The pg_auto_failover formation <c>./voting up --postgres-ha</c> and the failover tests run, on its own: a commit is
/// on the standby before the primary acknowledges it, the standby takes over when the primary's node is killed, a
/// client with the multi-host connection string follows it, and the old primary comes back as the standby.
/// </summary>
public sealed class PostgresHaClusterTests
{
    [Fact]
    public async Task ACommitIsOnTheStandbyBeforeItIsAcknowledgedAndSurvivesThePrimarysDeath()
    {
        await using var cluster = await TestServers.StartPostgresHaAsync();
        Assert.Equal(0, await cluster.PrimaryAsync());

        // The primary waits for the standby: synchronous replication is on, not merely streaming.
        await using (var primary = new NpgsqlConnection(cluster.NodeConnectionString(0)))
        {
            await primary.OpenAsync();
            Assert.Equal("ANY 1 (pgautofailover_standby_2)", await ScalarAsync<string>(primary, "SHOW synchronous_standby_names"));
            Assert.Equal("on", await ScalarAsync<string>(primary, "SHOW synchronous_commit"));
            Assert.Equal("quorum", await ScalarAsync<string>(primary, "SELECT sync_state FROM pg_stat_replication"));
        }

        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString("voting"));
        await ExecuteAsync(dataSource, "CREATE TABLE acknowledged (n int PRIMARY KEY)");
        await ExecuteAsync(dataSource, "INSERT INTO acknowledged SELECT generate_series(1, 1000)");

        await cluster.KillNodeAsync(0);

        // The same data source, unchanged, writes to the promoted standby once the monitor failed over.
        await Poll.UntilAsync(async () =>
        {
            try
            {
                await ExecuteAsync(dataSource, "INSERT INTO acknowledged VALUES (1001)");
                return true;
            }
            catch (NpgsqlException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "a write after the primary's death");
        await Poll.UntilAsync(async () => await cluster.PrimaryAsync() == 1, TimeSpan.FromSeconds(30), "the monitor naming the standby primary");
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            Assert.Equal(1001L, await ScalarAsync<long>(connection, "SELECT count(*) FROM acknowledged"));
        }

        // The old primary rejoins as the standby of the new one, in sync again.
        await cluster.StartNodeAsync(0);
        Assert.Equal(1, await cluster.PrimaryAsync());
        await using (var rejoined = new NpgsqlConnection(cluster.NodeConnectionString(0)))
        {
            await rejoined.OpenAsync();
            Assert.True(await ScalarAsync<bool>(rejoined, "SELECT pg_is_in_recovery()"));
        }
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}

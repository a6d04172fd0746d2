using Voting.Local;
using Voting.Local.Servers;

namespace Voting.Testing;

/// <summary>Throw-away PostgreSQL and Redis servers for a test: free loopback ports, data in a new temp directory.</summary>
public static class TestServers
{
    public static Task<PostgresServer> StartPostgresAsync()
    {
        var directory = TestDirectories.Create("postgres");
        return PostgresServer.StartAsync(new PostgresServerOptions
        {
            DataDirectory = Path.Combine(directory, "data"),
            Port = FreePort.Next(),
            LogPath = Path.Combine(directory, "postgres.log"),
            // Tests kill processes, never the machine (see PostgresServerOptions.Durable).
            Durable = false,
            Roles = TestApps.PostgresRoles,
            DeleteOnDispose = true,
        });
    }

    /// <summary>A pg_auto_failover formation (monitor, primary, synchronous standby) on free ports, created with database <c>voting</c>.</summary>
    public static Task<PostgresHaCluster> StartPostgresHaAsync()
    {
        var directory = TestDirectories.Create("postgres-ha");
        return PostgresHaCluster.StartAsync(new PostgresHaOptions
        {
            Directory = Path.Combine(directory, "data"),
            MonitorPort = FreePort.Next(),
            NodePorts = [FreePort.Next(), FreePort.Next()],
            LogDirectory = directory,
            Database = "voting",
            Roles = TestApps.PostgresRoles,
            DeleteOnDispose = true,
        });
    }

    /// <summary>A Redis with the test ACL users (<see cref="TestApps.RedisAccounts"/>, or <paramref name="accounts"/>), as every front end's runs.</summary>
    public static Task<RedisServer> StartRedisAsync(string appendFsync = "everysec", string? maxMemory = null, RedisAccounts? accounts = null)
    {
        var directory = TestDirectories.Create("redis");
        return RedisServer.StartAsync(new RedisServerOptions
        {
            Directory = directory,
            Port = FreePort.Next(),
            LogPath = Path.Combine(directory, "redis.log"),
            AppendFsync = appendFsync,
            MaxMemory = maxMemory,
            Accounts = accounts ?? TestApps.RedisAccounts,
            DeleteOnDispose = true,
        });
    }
}

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
            DeleteOnDispose = true,
        });
    }

    public static Task<RedisServer> StartRedisAsync(string appendFsync = "everysec", string? maxMemory = null)
    {
        var directory = TestDirectories.Create("redis");
        return RedisServer.StartAsync(new RedisServerOptions
        {
            Directory = directory,
            Port = FreePort.Next(),
            LogPath = Path.Combine(directory, "redis.log"),
            AppendFsync = appendFsync,
            MaxMemory = maxMemory,
            DeleteOnDispose = true,
        });
    }
}

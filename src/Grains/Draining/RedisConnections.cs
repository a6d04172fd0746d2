using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Voting.Grains.Draining;

/// <summary>
/// One multiplexed connection per front-end Redis, shared by every drainer activation on this silo, signed in as this
/// silo's drainer user (<see cref="DrainerRedisOptions"/>).
/// </summary>
public sealed partial class RedisConnections(IOptions<DrainerRedisOptions> options, ILogger<RedisConnections> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<ConnectionMultiplexer>>> _connections = new(StringComparer.Ordinal);

    public async Task<IDatabase> GetDatabaseAsync(string endpoint)
    {
        var connection = _connections.GetOrAdd(endpoint, e => new Lazy<Task<ConnectionMultiplexer>>(() => ConnectAsync(e)));
        try
        {
            return (await connection.Value).GetDatabase();
        }
        catch
        {
            // Do not cache a failed connection attempt (a malformed endpoint, for instance).
            _connections.TryRemove(new KeyValuePair<string, Lazy<Task<ConnectionMultiplexer>>>(endpoint, connection));
            throw;
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(string endpoint)
    {
        var configuration = ConfigurationOptions.Parse(endpoint);
        // Keep reconnecting in the background, and fail commands at once while disconnected: the drainer backs off
        // and retries, and the votes wait safely in the stream.
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ConnectTimeout = 5000;
        configuration.ClientName = "voting-drainer";
        // The drainer user's ACL allows the stream commands the drainers send and little else (docs/SECURITY.md): no
        // Pub/Sub, so no configuration channel, and no tie-breaker key to read.
        configuration.User = options.Value.RedisUser;
        configuration.Password = options.Value.RedisPassword;
        configuration.ConfigurationChannel = "";
        configuration.TieBreaker = "";
        var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        LogConnected(logger, endpoint);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections.Values)
        {
            if (connection.IsValueCreated && connection.Value.IsCompletedSuccessfully)
            {
                await connection.Value.Result.DisposeAsync();
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Connected to front-end Redis {Endpoint}")]
    private static partial void LogConnected(ILogger logger, string endpoint);
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Voting.Grains.Draining;

/// <summary>One multiplexed connection per front-end Redis, shared by every drainer activation on this silo.</summary>
public sealed partial class RedisConnections(ILogger<RedisConnections> logger) : IAsyncDisposable
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

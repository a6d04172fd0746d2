using System.Diagnostics;
using StackExchange.Redis;

namespace Voting.Testing;

/// <summary>A real <c>redis-server</c> on a free loopback port, with AOF on, its data in a directory of its own.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private string _appendFsync;
    private readonly string? _maxMemory;
    private ChildProcess? _process;

    private RedisServer(string directory, int port, string appendFsync, string? maxMemory)
    {
        _directory = directory;
        Port = port;
        _appendFsync = appendFsync;
        _maxMemory = maxMemory;
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>, as StackExchange.Redis and the applications take it.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync(string appendFsync = "everysec", string? maxMemory = null)
    {
        var server = new RedisServer(TestDirectories.Create("redis"), FreePort.Next(), appendFsync, maxMemory);
        await server.RestartAsync();
        return server;
    }

    /// <summary>
    /// Starts the server (again, after <see cref="KillAsync"/>), on the same port and data: what was on disk comes back.
    /// <paramref name="appendFsync"/> (<c>always</c>, <c>everysec</c>) changes the AOF's fsync policy from now on.
    /// </summary>
    public async Task RestartAsync(string? appendFsync = null)
    {
        _appendFsync = appendFsync ?? _appendFsync;
        var arguments = new List<string>
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--dir", _directory,
            "--appendonly", "yes",
            "--appendfsync", _appendFsync,
            "--save", "",
            "--daemonize", "no",
        };
        if (_maxMemory is not null)
        {
            arguments.AddRange(["--maxmemory", _maxMemory, "--maxmemory-policy", "noeviction"]);
        }

        _process = ChildProcess.Start("redis", "redis-server", arguments, Path.Combine(_directory, "redis.log"));
        await WaitUntilAnsweringAsync();
    }

    /// <summary>Stops the server the hard way (SIGKILL): only what reached the AOF survives.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            process.KillNow();
            await process.Exited;
            await process.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>A connection for the tests themselves, patient enough for a machine busy running several test hosts.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
    {
        EndPoints = { Endpoint },
        AbortOnConnectFail = false,
        ConnectTimeout = 5000,
        AsyncTimeout = 30_000,
        SyncTimeout = 30_000,
    });

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            await process.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the operating system's temp cleanup.
        }
    }

    private async Task WaitUntilAnsweringAsync()
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync(
                    new ConfigurationOptions { EndPoints = { Endpoint }, ConnectTimeout = 500, ConnectRetry = 0 });
                await connection.GetDatabase().PingAsync();
                return;
            }
            catch (Exception e) when (e is RedisConnectionException or RedisServerException { Message: ['L', 'O', 'A', 'D', 'I', 'N', 'G', ..] }
                                      && watch.Elapsed < TimeSpan.FromSeconds(20) && _process is { HasExited: false })
            {
                // Not listening yet, or still loading its append-only file.
                await Task.Delay(50);
            }
            catch (Exception e) when (e is RedisConnectionException or RedisServerException)
            {
                throw new InvalidOperationException($"redis-server on port {Port} did not start:\n{_process?.Tail()}", e);
            }
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;
using Voting.Local.Processes;

namespace Voting.Local.Servers;

/// <summary>Where and how a <see cref="RedisServer"/> runs.</summary>
public sealed record RedisServerOptions
{
    /// <summary>What its process is called in logs and messages, e.g. <c>redis01</c>.</summary>
    public string Name { get; init; } = "redis";

    /// <summary>Its data: the append-only file.</summary>
    public required string Directory { get; init; }

    public required int Port { get; init; }

    public required string LogPath { get; init; }

    /// <summary><c>always</c> (fsync before every acknowledgement) or <c>everysec</c>.</summary>
    public string AppendFsync { get; init; } = "everysec";

    /// <summary>A memory limit (e.g. <c>2mb</c>): a full Redis refuses writes (<c>noeviction</c>).</summary>
    public string? MaxMemory { get; init; }

    /// <summary>Delete <see cref="Directory"/> when the server is disposed (a throw-away server).</summary>
    public bool DeleteOnDispose { get; init; }

    /// <summary>Its ACL users (the <c>default</c> user off); none: the <c>default</c> user may do anything, without a password.</summary>
    public RedisAccounts? Accounts { get; init; }
}

/// <summary>A real <c>redis-server</c> on loopback with its append-only file on, as every front end's Redis runs.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private RedisServerOptions _options;

    private RedisServer(RedisServerOptions options, LocalProcess? process)
    {
        _options = options;
        Process = process;
    }

    public int Port => _options.Port;

    /// <summary><c>127.0.0.1:port</c>, as StackExchange.Redis and the applications take it.</summary>
    public string Endpoint => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The server process, while it runs.</summary>
    public LocalProcess? Process { get; private set; }

    public static async Task<RedisServer> StartAsync(RedisServerOptions options)
    {
        var server = new RedisServer(options, process: null);
        await server.RestartAsync();
        return server;
    }

    /// <summary>The server a previous command started with these options, while it runs.</summary>
    public static RedisServer? Attach(RedisServerOptions options, ProcessIdentity identity) =>
        LocalProcess.Attach(options.Name, identity, options.LogPath) is { } process ? new RedisServer(options, process) : null;

    /// <summary>
    /// Starts the server (again, after <see cref="KillAsync"/>), on the same port and data: what was on disk comes back.
    /// <paramref name="appendFsync"/> (<c>always</c>, <c>everysec</c>) changes the AOF's fsync policy from now on.
    /// </summary>
    public async Task RestartAsync(string? appendFsync = null)
    {
        _options = _options with { AppendFsync = appendFsync ?? _options.AppendFsync };
        System.IO.Directory.CreateDirectory(_options.Directory);
        List<string> arguments =
        [
            "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--dir", _options.Directory,
            "--appendonly", "yes",
            "--appendfsync", _options.AppendFsync,
            "--save", "",
            "--daemonize", "no",
            "--maxmemory-policy", "noeviction",
        ];
        if (_options.MaxMemory is { } maxMemory)
        {
            arguments.AddRange(["--maxmemory", maxMemory]);
        }

        if (_options.Accounts is { } accounts)
        {
            // Written at every start: the passwords may have changed since (hashed in the file, never in the clear).
            var aclFile = Path.Combine(_options.Directory, "users.acl");
            Secret.WritePrivate(aclFile, accounts.AclFile());
            arguments.AddRange(["--aclfile", aclFile]);
        }

        Process = LocalProcess.Start(_options.Name, "redis-server", arguments, _options.LogPath);
        await WaitUntilAnsweringAsync();
    }

    /// <summary>Stops the server gracefully (SIGTERM): Redis writes its append-only file out first.</summary>
    public async Task StopAsync()
    {
        if (Process is { } process)
        {
            await process.StopAsync(TimeSpan.FromSeconds(10));
            Process = null;
        }
    }

    /// <summary>Stops the server the hard way (SIGKILL): only what reached the AOF survives.</summary>
    public async Task KillAsync()
    {
        if (Process is { } process)
        {
            process.KillNow();
            await process.Exited;
            Process = null;
        }
    }

    /// <summary>
    /// A connection for the tests and <c>./voting</c> themselves, as the operator when the server has ACL users, patient
    /// enough for a machine busy running several test hosts. <paramref name="allowAdmin"/> for <c>INFO</c>,
    /// <c>CONFIG SET</c> and the like.
    /// </summary>
    public Task<ConnectionMultiplexer> ConnectAsync(bool allowAdmin = false)
    {
        var configuration = Configuration(_options.Accounts?.Operator);
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = 5000;
        configuration.AsyncTimeout = 30_000;
        configuration.SyncTimeout = 30_000;
        configuration.AllowAdmin = allowAdmin;
        return ConnectionMultiplexer.ConnectAsync(configuration);
    }

    /// <summary>
    /// A connection as <paramref name="credential"/>'s user (none: the <c>default</c> user), with StackExchange.Redis's
    /// admin commands allowed: what that user may do is the server's ACL to say, not the client's.
    /// </summary>
    public Task<ConnectionMultiplexer> ConnectAsAsync(RedisCredential? credential)
    {
        var configuration = Configuration(credential);
        configuration.ConnectTimeout = 5000;
        configuration.AllowAdmin = true;
        return ConnectionMultiplexer.ConnectAsync(configuration);
    }

    private ConfigurationOptions Configuration(RedisCredential? credential) => new()
    {
        EndPoints = { Endpoint },
        User = credential?.User,
        Password = credential?.Password,
    };

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_options.DeleteOnDispose)
        {
            LocalDirectories.TryDelete(_options.Directory);
        }
    }

    private async Task WaitUntilAnsweringAsync()
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var configuration = Configuration(_options.Accounts?.Operator);
                configuration.ConnectTimeout = 500;
                configuration.ConnectRetry = 0;
                await using var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
                await connection.GetDatabase().PingAsync();
                return;
            }
            catch (Exception e) when (e is RedisConnectionException or RedisServerException { Message: ['L', 'O', 'A', 'D', 'I', 'N', 'G', ..] }
                                      && watch.Elapsed < StartTimeout && Process is { HasExited: false })
            {
                // Not listening yet, or still loading its append-only file.
                await Task.Delay(50);
            }
            catch (Exception e) when (e is RedisConnectionException or RedisServerException)
            {
                throw new InvalidOperationException($"redis-server on port {Port} did not start (log: {_options.LogPath}):\n{Process?.Tail()}", e);
            }
        }
    }
}

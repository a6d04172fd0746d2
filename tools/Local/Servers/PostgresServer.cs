using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Npgsql;
using Voting.Local.Processes;

namespace Voting.Local.Servers;

/// <summary>Where and how a <see cref="PostgresServer"/> runs.</summary>
public sealed record PostgresServerOptions
{
    /// <summary>The data directory; initialised (<c>initdb</c>) when it holds no cluster yet.</summary>
    public required string DataDirectory { get; init; }

    public required int Port { get; init; }

    public required string LogPath { get; init; }

    /// <summary>
    /// fsync and full-page writes on. Off only where processes are killed but never the machine (the tests): what
    /// PostgreSQL wrote then survives in the OS's cache and a commit stays durable, much faster. synchronous_commit
    /// stays on either way: with it off a commit is acknowledged before its WAL is written, and a crash loses it.
    /// </summary>
    public bool Durable { get; init; } = true;

    public int MaxConnections { get; init; } = 200;

    /// <summary>Delete <see cref="DataDirectory"/> when the server is disposed (a throw-away server).</summary>
    public bool DeleteOnDispose { get; init; }

    /// <summary>
    /// The services' login roles, created at start, signing in with their passwords (<c>scram-sha-256</c>); databases
    /// this server creates belong to <see cref="PostgresRoles.Owner"/>. None: the superuser only.
    /// </summary>
    public PostgresRoles? Roles { get; init; }
}

/// <summary>
/// A real PostgreSQL server on loopback, its superuser <c>voting</c> with trust authentication (the operator's own
/// account on this machine: the tests and <c>./voting</c>, never an application), and with
/// <see cref="PostgresServerOptions.Roles"/> every other role with its password. As root the server runs as the
/// <c>postgres</c> user, since PostgreSQL refuses to run as root.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string Superuser = "voting";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly PostgresServerOptions _options;
    private readonly string _binDirectory;

    private PostgresServer(PostgresServerOptions options, LocalProcess? process)
    {
        _options = options;
        _binDirectory = PostgresBinaries.Directory();
        Process = process;
    }

    public int Port => _options.Port;

    /// <summary>The postmaster, while it runs.</summary>
    public LocalProcess? Process { get; private set; }

    /// <summary>Initialises the data directory if needed and starts the server; returns once it answers.</summary>
    public static async Task<PostgresServer> StartAsync(PostgresServerOptions options)
    {
        var server = new PostgresServer(options, process: null);
        await server.InitializeAsync();
        await server.RestartAsync();
        if (options.Roles is { } roles)
        {
            await roles.EnsureAsync(server.ConnectionString("postgres"));
        }

        return server;
    }

    /// <summary>The server a previous command started with these options, while it runs.</summary>
    public static PostgresServer? Attach(PostgresServerOptions options, ProcessIdentity identity) =>
        LocalProcess.Attach("postgres", identity, options.LogPath) is { } process ? new PostgresServer(options, process) : null;

    /// <summary>A connection string to the given database on this server.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Database = database,
        Pooling = true,
        Timeout = 5,
    }.ConnectionString;

    /// <summary>A connection string to the given database as <paramref name="role"/> of <see cref="PostgresServerOptions.Roles"/>.</summary>
    public string ConnectionString(string database, string role) =>
        (_options.Roles ?? throw new InvalidOperationException("This server has no service roles.")).As(ConnectionString(database), role);

    /// <summary>Creates an empty database (owned by the schema owner, when there are roles) and returns its superuser connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        var owner = _options.Roles is null ? "" : " OWNER " + PostgresRoles.Owner;
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"{owner}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Creates the database unless it exists, and returns its connection string.</summary>
    public async Task<string> EnsureDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", name);
        if (await exists.ExecuteScalarAsync() is null)
        {
            return await CreateDatabaseAsync(name);
        }

        if (_options.Roles is not null)
        {
            await PostgresRoles.HandOverAsync(ConnectionString(name), name);
        }

        return ConnectionString(name);
    }

    /// <summary>Starts the server (again, after it stopped) on the same port and data.</summary>
    public async Task RestartAsync()
    {
        if (_options.Roles is not null)
        {
            await WriteHostBasedAuthenticationAsync();
        }

        string[] settings =
        [
            "listen_addresses=127.0.0.1",
            "unix_socket_directories=",
            "max_connections=" + _options.MaxConnections.ToString(CultureInfo.InvariantCulture),
            .. _options.Durable ? Array.Empty<string>() : ["fsync=off", "full_page_writes=off"],
        ];
        Process = RunAsServerUser("postgres", ["-D", _options.DataDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture),
            .. settings.SelectMany(s => new[] { "-c", s })]);
        await WaitUntilAnsweringAsync();
    }

    /// <summary>PostgreSQL's fast shutdown (SIGINT): open transactions are rolled back, then a checkpoint.</summary>
    public async Task StopAsync()
    {
        if (Process is { } process)
        {
            await process.StopAsync(TimeSpan.FromSeconds(60), Signals.Interrupt);
            Process = null;
            NpgsqlConnection.ClearAllPools();
        }
    }

    /// <summary>
    /// Stops the server at once, as a crash would: SIGQUIT, PostgreSQL's immediate shutdown, which ends every backend
    /// without a checkpoint and recovers from the write-ahead log at the next start.
    /// </summary>
    public async Task StopImmediatelyAsync()
    {
        if (Process is { } process)
        {
            await process.StopAsync(TimeSpan.FromSeconds(30), Signals.Quit);
            Process = null;
            NpgsqlConnection.ClearAllPools();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_options.DeleteOnDispose)
        {
            LocalDirectories.TryDelete(_options.DataDirectory);
        }
    }

    private async Task InitializeAsync()
    {
        if (File.Exists(Path.Combine(_options.DataDirectory, "PG_VERSION")))
        {
            return;
        }

        Directory.CreateDirectory(_options.DataDirectory);
        if (PostgresUser.IsRoot)
        {
            await PostgresUser.TakeOwnershipAsync(_options.DataDirectory);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_options.DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        await using var initdb = RunAsServerUser("initdb", ["-D", _options.DataDirectory, "-U", Superuser, "--auth=trust", "-E", "UTF8",
            "--no-instructions", .. _options.Durable ? Array.Empty<string>() : ["--no-sync"]]);
        await initdb.Exited.WaitAsync(StartTimeout);
        if (!File.Exists(Path.Combine(_options.DataDirectory, "PG_VERSION")))
        {
            throw new InvalidOperationException($"initdb did not initialise {_options.DataDirectory}:\n{initdb.Tail()}");
        }
    }

    /// <summary>
    /// Loopback only: the superuser as initdb made it (trust: the operator's own account), every other role with its
    /// password. Written at every start, so that a data directory made before the roles existed changes too.
    /// </summary>
    private async Task WriteHostBasedAuthenticationAsync()
    {
        var path = Path.Combine(_options.DataDirectory, "pg_hba.conf");
        await File.WriteAllTextAsync(path,
            $"""
            # Written by Voting.Local's PostgresServer at every start.
            host all {Superuser} 127.0.0.1/32 trust
            host all all 127.0.0.1/32 scram-sha-256

            """);
        if (PostgresUser.IsRoot)
        {
            await PostgresUser.TakeOwnershipAsync(path);
        }
    }

    private LocalProcess RunAsServerUser(string program, IEnumerable<string> arguments)
    {
        var path = Path.Combine(_binDirectory, program);
        return PostgresUser.IsRoot
            ? LocalProcess.Start(program, "setpriv", [.. PostgresUser.SetprivArguments, path, .. arguments], _options.LogPath)
            : LocalProcess.Start(program, path, arguments, _options.LogPath);
    }

    private async Task WaitUntilAnsweringAsync()
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false;Timeout=2");
                await connection.OpenAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or SocketException)
            {
                if (watch.Elapsed > StartTimeout || Process is not { HasExited: false })
                {
                    throw new InvalidOperationException($"PostgreSQL on port {Port} did not start (log: {_options.LogPath}):\n{Process?.Tail()}", e);
                }

                await Task.Delay(50);
            }
        }
    }
}

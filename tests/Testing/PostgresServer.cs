using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Voting.Testing;

/// <summary>
/// A real PostgreSQL server on a free loopback port, initialised in a directory of its own. As root (CI), the server
/// runs as the <c>postgres</c> user, since PostgreSQL refuses to run as root.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string Superuser = "voting";
    private readonly string _directory;
    private readonly string _binDirectory;
    private ChildProcess? _process;

    private PostgresServer(string directory, string binDirectory, int port)
    {
        _directory = directory;
        _binDirectory = binDirectory;
        Port = port;
    }

    public int Port { get; }

    private string DataDirectory => Path.Combine(_directory, "data");

    public static async Task<PostgresServer> StartAsync()
    {
        var server = new PostgresServer(TestDirectories.Create("postgres"), FindBinDirectory(), FreePort.Next());
        await server.RunToCompletionAsync("initdb", "-D", server.DataDirectory, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions");
        await server.RestartAsync();
        return server;
    }

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

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Starts the server (again, after <see cref="StopImmediatelyAsync"/>) on the same port and data.</summary>
    public async Task RestartAsync()
    {
        _process = ChildProcess.Start("postgres", RunAs(out var prefix), [.. prefix,
            Path.Combine(_binDirectory, "postgres"),
            "-D", DataDirectory,
            "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-k", _directory,
            "-c", "listen_addresses=127.0.0.1",
            // Tests kill processes, never the machine: what PostgreSQL has written survives in the OS's cache, so
            // skipping fsync keeps a commit durable here and makes the tests much faster. synchronous_commit stays
            // on: with it off a commit is acknowledged before its WAL is even written, and an immediate shutdown
            // loses it — which the fault tests would rightly report as lost votes.
            "-c", "fsync=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=200"],
            Path.Combine(_directory, "postgres.log"));
        await WaitUntilAnsweringAsync();
    }

    /// <summary>
    /// Stops the server at once, as a crash would: SIGQUIT to the postmaster, PostgreSQL's "immediate" shutdown,
    /// which ends every backend without a checkpoint and recovers from the write-ahead log at the next start.
    /// </summary>
    public async Task StopImmediatelyAsync()
    {
        if (_process is { } process)
        {
            // Signal the postmaster itself: as root the child process is runuser, which does not pass SIGQUIT on.
            var postmaster = int.Parse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            _ = ChildProcess.Signal(postmaster, 3);
            await process.Exited.WaitAsync(TimeSpan.FromSeconds(30));
            await process.DisposeAsync();
            _process = null;
            NpgsqlConnection.ClearAllPools();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            // SIGINT, PostgreSQL's "fast" shutdown, to the postmaster itself (runuser may not pass signals on).
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                _ = ChildProcess.Signal(int.Parse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture), 2);
            }

            await process.StopAsync(TimeSpan.FromSeconds(10));
            await process.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
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
                await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false;Timeout=2");
                await connection.OpenAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException)
            {
                if (watch.Elapsed > TimeSpan.FromSeconds(30) || _process is not { HasExited: false })
                {
                    throw new InvalidOperationException($"PostgreSQL on port {Port} did not start:\n{_process?.Tail()}", e);
                }

                await Task.Delay(50);
            }
        }
    }

    private async Task RunToCompletionAsync(string program, params string[] arguments)
    {
        await using var process = ChildProcess.Start(program, RunAs(out var prefix), [.. prefix, Path.Combine(_binDirectory, program), .. arguments],
            Path.Combine(_directory, program + ".log"));
        await process.Exited;
        if (!process.HasExited)
        {
            throw new InvalidOperationException($"{program} did not finish.");
        }
    }

    /// <summary>The program to run PostgreSQL through: itself, or <c>runuser -u postgres --</c> as root.</summary>
    private static string RunAs(out string[] prefix)
    {
        if (Environment.UserName == "root")
        {
            prefix = ["-u", "postgres", "--"];
            return "runuser";
        }

        prefix = [];
        return "env";
    }

    private static string FindBinDirectory()
    {
        if (Environment.GetEnvironmentVariable("VOTING_PG_BIN") is { Length: > 0 } configured)
        {
            return configured;
        }

        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal).ToArray()
            : [];
        return candidates.FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL server binaries not found: install postgresql (./voting test does) or set VOTING_PG_BIN.");
    }
}

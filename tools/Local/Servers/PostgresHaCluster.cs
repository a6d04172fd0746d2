using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Npgsql;
using Voting.Local.Processes;

namespace Voting.Local.Servers;

/// <summary>Where and how a <see cref="PostgresHaCluster"/> runs.</summary>
public sealed record PostgresHaOptions
{
    /// <summary>Holds the monitor's and each node's data directory and pg_autoctl's configuration and state.</summary>
    public required string Directory { get; init; }

    public required int MonitorPort { get; init; }

    /// <summary>The two nodes' ports: the first is the primary when the formation is created, the second its standby.</summary>
    public required IReadOnlyList<int> NodePorts { get; init; }

    /// <summary>Where each process's log goes: <c>{name}.log</c>.</summary>
    public required string LogDirectory { get; init; }

    /// <summary>The database the formation is created with (and the applications use).</summary>
    public string Database { get; init; } = "voting";

    /// <summary>Delete <see cref="Directory"/> when the cluster is disposed (a throw-away cluster).</summary>
    public bool DeleteOnDispose { get; init; }

    /// <summary>
    /// The services' login roles, created on the primary once the formation is up (the standby replicates them), and
    /// the owner of <see cref="Database"/>. pg_autoctl's nodes authenticate with <c>trust</c> on loopback, so here the
    /// roles are about what each may do, not about passwords.
    /// </summary>
    public PostgresRoles? Roles { get; init; }
}

/// <summary>
/// PostgreSQL with a synchronous standby and automatic failover: a pg_auto_failover formation of a monitor and two
/// nodes, each a <c>pg_autoctl</c> keeper that runs its own PostgreSQL, on loopback. The primary waits for the standby
/// to have a commit's WAL before it acknowledges the commit (<c>synchronous_standby_names</c>, which pg_autoctl sets
/// while the standby is in sync), so a commit the applications saw survives the primary's loss; when the primary stops
/// answering, the monitor promotes the standby, and a node that comes back rejoins as the new standby. Clients follow
/// the primary with a multi-host connection string that asks for it (<see cref="ConnectionString(string)"/>).
/// </summary>
/// <remarks>
/// pg_auto_failover's defaults fail over in about 50 s; the monitor's health checks and the keepers' partition
/// timeout are shortened here (<see cref="MonitorSettings"/>, <see cref="KeeperSettings"/>) so that it takes about
/// 15 s on this machine, still well above a busy machine's scheduling hiccups.
/// </remarks>
public sealed class PostgresHaCluster : IAsyncDisposable
{
    public const string MonitorName = "pgmonitor";
    public const string Superuser = PostgresServer.Superuser;

    /// <summary>
    /// The monitor's health checks: every second, 1 s to answer, one retry; a node that has neither answered nor
    /// reported for 5 s is failed over; a primary that cannot be reached is given 10 s to demote itself (it does after
    /// the keepers' 5 s partition timeout) before its standby is promoted.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> MonitorSettings = new Dictionary<string, string>
    {
        ["pgautofailover.health_check_period"] = "1000",
        ["pgautofailover.health_check_timeout"] = "1000",
        ["pgautofailover.health_check_max_retries"] = "1",
        ["pgautofailover.health_check_retry_delay"] = "500",
        ["pgautofailover.node_considered_unhealthy_timeout"] = "5000",
        ["pgautofailover.primary_demote_timeout"] = "10000",
    };

    /// <summary>A keeper that has reached neither the monitor nor its standby for 5 s demotes its primary.</summary>
    public static readonly IReadOnlyDictionary<string, string> KeeperSettings = new Dictionary<string, string>
    {
        ["timeout.network_partition_timeout"] = "5",
    };

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly PostgresHaOptions _options;
    private readonly LocalProcess?[] _nodes;

    private PostgresHaCluster(PostgresHaOptions options, LocalProcess? monitor, LocalProcess?[] nodes)
    {
        if (options.NodePorts.Count != 2)
        {
            throw new ArgumentException("A formation here has exactly two nodes: a primary and its standby.", nameof(options));
        }

        _options = options;
        Monitor = monitor;
        _nodes = nodes;
    }

    /// <summary>The monitor's <c>pg_autoctl</c>, while it runs.</summary>
    public LocalProcess? Monitor { get; private set; }

    /// <summary>Each node's <c>pg_autoctl</c> (which runs its PostgreSQL), while it runs; null when stopped.</summary>
    public IReadOnlyList<LocalProcess?> Nodes => _nodes;

    public IReadOnlyList<int> NodePorts => _options.NodePorts;

    /// <summary><c>postgres01</c>, <c>postgres02</c>: what node <paramref name="index"/> (0 or 1) is called.</summary>
    public static string NodeName(int index) => "postgres" + (index + 1).ToString("00", CultureInfo.InvariantCulture);

    /// <summary>Creates the formation (or starts it again, with its data) and returns once it has a primary and a standby in sync.</summary>
    public static async Task<PostgresHaCluster> StartAsync(PostgresHaOptions options)
    {
        var cluster = Attach(options, monitor: null, [null, null]);
        try
        {
            await cluster.EnsureRunningAsync();
            return cluster;
        }
        catch
        {
            // Whatever started is stopped: nobody else holds the cluster to stop it.
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The formation a previous command started, with whichever of its processes still run.</summary>
    public static PostgresHaCluster Attach(PostgresHaOptions options, ProcessIdentity? monitor, IReadOnlyList<ProcessIdentity?> nodes) =>
        new(options, Attach(MonitorName, monitor, options), [.. nodes.Select((n, i) => Attach(NodeName(i), n, options))]);

    /// <summary>
    /// A connection string to <paramref name="database"/> that lists both nodes and asks for the primary: Npgsql tries
    /// them in turn, keeps a connection only to the one that accepts writes, and checks again a second after a host
    /// failed, so a failover is followed without any change to the applications' settings.
    /// </summary>
    public string ConnectionString(string database) => ConnectionString(_options.NodePorts, database);

    /// <inheritdoc cref="ConnectionString(string)"/>
    public static string ConnectionString(IEnumerable<int> nodePorts, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = string.Join(',', nodePorts.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture))),
        Username = Superuser,
        Database = database,
        TargetSessionAttributes = "read-write",
        HostRecheckSeconds = 1,
        Pooling = true,
        Timeout = 5,
    }.ConnectionString;

    /// <summary>A connection string to node <paramref name="index"/> alone, whatever it is now.</summary>
    public string NodeConnectionString(int index, string? database = null) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = _options.NodePorts[index],
        Username = Superuser,
        Database = database ?? _options.Database,
        Pooling = false,
        Timeout = 3,
    }.ConnectionString;

    /// <summary>What the monitor says of each node now.</summary>
    public async Task<IReadOnlyList<HaNodeState>> StatesAsync(CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(MonitorConnectionString());
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            "SELECT nodename, nodeport, reportedstate::text, goalstate::text, health FROM pgautofailover.node ORDER BY nodeid", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var states = new List<HaNodeState>();
        while (await reader.ReadAsync(ct))
        {
            states.Add(new HaNodeState(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4) == 1));
        }

        return states;
    }

    /// <summary>The index (0 or 1) of the node that is the primary now, or null while there is none.</summary>
    public async Task<int?> PrimaryAsync(CancellationToken ct = default)
    {
        var primary = (await StatesAsync(ct)).FirstOrDefault(s => s.IsPrimary);
        return primary is null ? null : IndexOfPort(primary.Port);
    }

    /// <summary>Returns once the monitor reports a primary and a standby in sync (<c>primary</c> and <c>secondary</c>).</summary>
    public async Task WaitForStandbyAsync(TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        var limit = timeout ?? StartTimeout;
        IReadOnlyList<HaNodeState> states = [];
        while (watch.Elapsed < limit)
        {
            try
            {
                states = await StatesAsync();
                if (states.Count == 2 && states.Any(s => s is { ReportedState: "primary", GoalState: "primary" })
                    && states.Any(s => s is { ReportedState: "secondary", GoalState: "secondary" }))
                {
                    return;
                }

                await NudgeBaseBackupAsync(states);
            }
            catch (Exception e) when (e is NpgsqlException or SocketException)
            {
                // The monitor or the primary is starting; ask again.
            }

            ThrowIfExited();
            await Task.Delay(250);
        }

        throw new InvalidOperationException($"The PostgreSQL formation has no primary with a standby in sync after {limit.TotalSeconds:F0}s: "
            + string.Join(", ", states.Select(s => $"{s.Name} {s.ReportedState}→{s.GoalState}")) + $" (logs in {_options.LogDirectory}).");
    }

    /// <summary>
    /// Starts whichever of the monitor and the nodes does not run — the first time, creates the formation: the monitor,
    /// then the node that becomes the primary, then its standby — and returns once there is a primary with its
    /// standby in sync.
    /// </summary>
    public async Task EnsureRunningAsync()
    {
        await PrepareDirectoryAsync();
        await StartMonitorAsync();
        if (!Exists(DataDirectory(NodeName(0))) && !Exists(DataDirectory(NodeName(1))))
        {
            // The first node to register becomes the primary: start it alone, then its standby.
            await LaunchNodeAsync(0);
            await WaitUntilAsync(async ct => (await StatesAsync(ct)).Any(s => s.IsPrimary && s.Port == _options.NodePorts[0]), _nodes[0]!, NodeName(0) + " as the primary");
        }

        for (var index = 0; index < _nodes.Length; index++)
        {
            await LaunchNodeAsync(index);
        }

        await WaitForStandbyAsync();
        if (_options.Roles is { } roles)
        {
            await roles.EnsureAsync(ConnectionString("postgres"));
            await PostgresRoles.HandOverAsync(ConnectionString(_options.Database), _options.Database);
        }
    }

    /// <summary>Starts the monitor unless it runs; with its data, once created.</summary>
    public async Task StartMonitorAsync()
    {
        if (Monitor is { HasExited: false })
        {
            return;
        }

        await PrepareDirectoryAsync();
        var data = DataDirectory("monitor");
        Monitor = Exists(data)
            ? Run(MonitorName, ["run", "--pgdata", data])
            : Run(MonitorName, ["create", "monitor", "--pgdata", data, "--pgport", Port(_options.MonitorPort),
                "--listen", "127.0.0.1", "--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl", "--run"]);
        await WaitUntilAsync(async ct =>
        {
            await using var connection = new NpgsqlConnection(MonitorAdminConnectionString());
            await connection.OpenAsync(ct);
            // pg_autoctl installs the extension once PostgreSQL runs; the settings are its.
            await using var installed = new NpgsqlCommand("SELECT 1 FROM pg_extension WHERE extname = 'pgautofailover'", connection);
            if (await installed.ExecuteScalarAsync(ct) is null)
            {
                return false;
            }

            foreach (var (name, value) in MonitorSettings)
            {
                await using var set = new NpgsqlCommand($"ALTER SYSTEM SET {name} = '{value}'", connection);
                await set.ExecuteNonQueryAsync(ct);
            }

            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
            await reload.ExecuteNonQueryAsync(ct);
            return true;
        }, Monitor, "the pg_auto_failover monitor");
    }

    /// <summary>
    /// Starts node <paramref name="index"/> again (the monitor must run); it rejoins as the standby when the other node
    /// is the primary. Returns once the monitor sees it settled, and, when the other node runs too, in sync with it.
    /// </summary>
    public async Task StartNodeAsync(int index)
    {
        await LaunchNodeAsync(index);
        if (_nodes.All(n => n is { HasExited: false }))
        {
            await WaitForStandbyAsync();
        }
        else
        {
            await WaitUntilAsync(async ct => (await StatesAsync(ct)).Any(s => s.Port == _options.NodePorts[index] && s.IsSettled),
                _nodes[index]!, NodeName(index));
        }
    }

    /// <summary>Stops node <paramref name="index"/>: its keeper stops PostgreSQL with a fast shutdown, then ends.</summary>
    public async Task StopNodeAsync(int index)
    {
        if (_nodes[index] is { } node)
        {
            await node.StopAsync(TimeSpan.FromSeconds(60));
            _nodes[index] = null;
            NpgsqlConnection.ClearAllPools();
        }
    }

    /// <summary>
    /// Kills node <paramref name="index"/> as a machine's death would: <c>kill -9</c> of its keeper, its PostgreSQL
    /// and every backend at once (they are one process group), no shutdown, no chance to hand anything over.
    /// </summary>
    public async Task KillNodeAsync(int index)
    {
        if (_nodes[index] is { } node)
        {
            node.KillGroupNow();
            await node.Exited.WaitAsync(TimeSpan.FromSeconds(30));
            await WaitUntilPortClosedAsync(_options.NodePorts[index]);
            _nodes[index] = null;
        }
    }

    public async Task StopMonitorAsync()
    {
        if (Monitor is { } monitor)
        {
            await monitor.StopAsync(TimeSpan.FromSeconds(60));
            Monitor = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The standby first, so that the primary does not fail over to it on the way down.
        var primary = await PrimaryOrNullAsync();
        foreach (var index in Enumerable.Range(0, _nodes.Length).OrderBy(i => i == primary))
        {
            await StopNodeAsync(index);
        }

        await StopMonitorAsync();
        if (_options.DeleteOnDispose)
        {
            LocalDirectories.TryDelete(_options.Directory);
        }
    }

    private static LocalProcess? Attach(string name, ProcessIdentity? identity, PostgresHaOptions options) =>
        identity is { } known ? LocalProcess.Attach(name, known, LogPath(options, name)) : null;

    private static string LogPath(PostgresHaOptions options, string name) => Path.Combine(options.LogDirectory, name + ".log");

    private string DataDirectory(string name) => Path.Combine(_options.Directory, name);

    private async Task PrepareDirectoryAsync()
    {
        System.IO.Directory.CreateDirectory(_options.Directory);
        // pg_autoctl creates the data directories, its configuration and state under here, as the postgres user; the
        // keepers talk to their own PostgreSQL over its Unix socket, in PostgreSQL's socket directory.
        const string SocketDirectory = "/var/run/postgresql";
        System.IO.Directory.CreateDirectory(SocketDirectory);
        if (PostgresUser.IsRoot)
        {
            await PostgresUser.TakeOwnershipAsync(_options.Directory);
            await PostgresUser.TakeOwnershipAsync(SocketDirectory);
        }
    }

    private async Task LaunchNodeAsync(int index)
    {
        if (_nodes[index] is { HasExited: false })
        {
            return;
        }

        var name = NodeName(index);
        var data = DataDirectory(name);
        if (!Exists(data))
        {
            await CreateNodeAsync(index, name, data);
        }

        _nodes[index] = Run(name, ["run", "--pgdata", data]);
    }

    /// <summary>
    /// Creates node <paramref name="index"/> to the end — registered with the monitor, then initdb (the first node, the
    /// primary) or a base backup of the primary (its standby) — and then gives it the keeper's own settings
    /// (<see cref="KeeperSettings"/>), while no keeper of it runs. Never while one runs: <c>pg_autoctl config set</c>
    /// signals the running keeper to reload, and with it the initdb it may be running, which dies of the signal and
    /// leaves a data directory that no later attempt can use (seen in CI: "Failed to initialize Postgres cluster").
    /// </summary>
    private async Task CreateNodeAsync(int index, string name, string data)
    {
        var create = Run(name, ["create", "postgres", "--pgdata", data, "--pgport", Port(_options.NodePorts[index]),
            "--listen", "127.0.0.1", "--hostname", "127.0.0.1", "--name", name,
            "--username", Superuser, "--dbname", _options.Database,
            "--monitor", MonitorUri(), "--auth", "trust", "--no-ssl"]);
        await using (create)
        {
            var watch = Stopwatch.StartNew();
            while (!create.HasExited)
            {
                if (watch.Elapsed > StartTimeout)
                {
                    throw new InvalidOperationException($"{name} was not created after {StartTimeout.TotalSeconds:F0}s (log: {create.LogPath}):\n{create.Tail()}");
                }

                try
                {
                    await NudgeBaseBackupAsync(await StatesAsync());
                }
                catch (Exception e) when (e is NpgsqlException or SocketException)
                {
                    // The primary is not answering yet; ask again.
                }

                await Task.WhenAny(create.Exited, Task.Delay(250));
            }
        }

        if (!Exists(data))
        {
            throw new InvalidOperationException($"pg_autoctl create postgres ended without creating {name} (log: {create.LogPath}):\n{create.Tail()}");
        }

        foreach (var (key, value) in KeeperSettings)
        {
            await RunToEndAsync(name, ["config", "set", "--pgdata", data, key, value]);
        }
    }

    /// <summary>
    /// pg_autoctl makes a standby with <c>pg_basebackup</c>, which waits for the primary's next checkpoint, spread over
    /// minutes by default: while a node is catching up, ask the primary for an immediate one.
    /// </summary>
    private async Task NudgeBaseBackupAsync(IReadOnlyList<HaNodeState> states)
    {
        if (states.Any(s => s.GoalState is "catchingup" && s.ReportedState is "wait_standby" or "catchingup")
            && states.FirstOrDefault(s => s.IsPrimary) is { } primary)
        {
            await using var connection = new NpgsqlConnection(NodeConnectionString(IndexOfPort(primary.Port), "postgres"));
            await connection.OpenAsync();
            await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection);
            await checkpoint.ExecuteNonQueryAsync();
        }
    }

    private async Task<int?> PrimaryOrNullAsync()
    {
        try
        {
            return Monitor is { HasExited: false } ? await PrimaryAsync() : null;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException)
        {
            return null;
        }
    }

    private int IndexOfPort(int port) => _options.NodePorts[0] == port ? 0 : 1;

    private bool Exists(string data) => File.Exists(ConfigurationFile(data)) && File.Exists(Path.Combine(data, "PG_VERSION"));

    /// <summary>Where pg_autoctl keeps a node's configuration: under <c>$XDG_CONFIG_HOME</c>, by the data directory's path.</summary>
    private string ConfigurationFile(string data) =>
        Path.Combine(_options.Directory, "config", "pg_autoctl", data.TrimStart('/'), "pg_autoctl.cfg");

    private string MonitorUri() => $"postgres://autoctl_node@127.0.0.1:{Port(_options.MonitorPort)}/pg_auto_failover?sslmode=disable";

    private string MonitorConnectionString() => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = _options.MonitorPort,
        Username = "autoctl_node",
        Database = "pg_auto_failover",
        Pooling = false,
        Timeout = 3,
    }.ConnectionString;

    /// <summary>The monitor's superuser, over its Unix socket (trust, as initdb set it up): only it may change settings.</summary>
    private string MonitorAdminConnectionString() => new NpgsqlConnectionStringBuilder
    {
        Host = "/var/run/postgresql",
        Port = _options.MonitorPort,
        Username = PostgresUser.Name,
        Database = "pg_auto_failover",
        Pooling = false,
        Timeout = 3,
    }.ConnectionString;

    private LocalProcess Run(string name, IEnumerable<string> arguments)
    {
        var program = "/usr/bin/pg_autoctl";
        return PostgresUser.IsRoot
            ? LocalProcess.Start(name, "setpriv", [.. PostgresUser.SetprivArguments, program, .. arguments], LogPath(_options, name), Environment())
            : LocalProcess.Start(name, program, arguments, LogPath(_options, name), Environment());
    }

    private async Task RunToEndAsync(string name, IEnumerable<string> arguments)
    {
        await using var process = Run(name, arguments);
        await process.Exited.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>pg_autoctl finds PostgreSQL's programs on the PATH and keeps its files under the XDG directories.</summary>
    private Dictionary<string, string?> Environment() => new()
    {
        ["PATH"] = PostgresBinaries.Directory() + ":/usr/bin:/bin",
        ["XDG_CONFIG_HOME"] = Path.Combine(_options.Directory, "config"),
        ["XDG_DATA_HOME"] = Path.Combine(_options.Directory, "share"),
        ["XDG_RUNTIME_DIR"] = Path.Combine(_options.Directory, "run"),
        ["PG_CONFIG"] = Path.Combine(PostgresBinaries.Directory(), "pg_config"),
    };

    private void ThrowIfExited()
    {
        foreach (var process in _nodes.Append(Monitor).OfType<LocalProcess>())
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Name} ended (log: {process.LogPath}):\n{process.Tail()}");
            }
        }
    }

    private static async Task WaitUntilAsync(Func<CancellationToken, Task<bool>> condition, LocalProcess process, string what)
    {
        var watch = Stopwatch.StartNew();
        Exception? last = null;
        while (watch.Elapsed < StartTimeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Name} ended before {what} was ready (log: {process.LogPath}):\n{process.Tail()}");
            }

            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                if (await condition(attempt.Token))
                {
                    return;
                }
            }
            catch (Exception e) when (e is NpgsqlException or SocketException or OperationCanceledException)
            {
                last = e;
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"{what} was not ready after {StartTimeout.TotalSeconds:F0}s (log: {process.LogPath}):\n{process.Tail()}", last);
    }

    private static async Task WaitUntilPortClosedAsync(int port)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
            }
            catch (SocketException)
            {
                return;
            }

            await Task.Delay(100);
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One node as the pg_auto_failover monitor sees it.</summary>
/// <param name="Name">Its node name: <c>postgres01</c>, <c>postgres02</c>.</param>
/// <param name="Port">Its PostgreSQL port.</param>
/// <param name="ReportedState">What the node's keeper last reported (<c>primary</c>, <c>secondary</c>, <c>wait_primary</c>, ...).</param>
/// <param name="GoalState">What the monitor asks of it.</param>
/// <param name="Healthy">The monitor's last health check reached it.</param>
public sealed record HaNodeState(string Name, int Port, string ReportedState, string GoalState, bool Healthy)
{
    /// <summary>It takes writes: a primary with its standby in sync, or one alone (<c>wait_primary</c>, <c>single</c>).</summary>
    public bool IsPrimary => ReportedState is "primary" or "wait_primary" or "single" && GoalState == ReportedState;

    /// <summary>It has reached what the monitor asked of it, as a primary or a standby.</summary>
    public bool IsSettled => GoalState == ReportedState && ReportedState is "primary" or "wait_primary" or "single" or "secondary";
}

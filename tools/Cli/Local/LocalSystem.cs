using System.Globalization;
using Voting.Local.Applications;
using Voting.Local.Processes;
using Voting.Local.Servers;
using Voting.Local.Tls;

namespace Voting.Cli.Local;

/// <summary>
/// Voting.Orleans on this machine as <c>./voting</c> runs it: PostgreSQL, a Redis per front end and the applications,
/// each a process of its own on loopback, remembered in <c>run/</c> so that every later command finds them. Starting
/// something that already runs leaves it be; starting something again gives it the ports it had.
/// </summary>
internal sealed class LocalSystem
{
    public const string Database = "voting";

    private static readonly TimeSpan AppStopGrace = TimeSpan.FromSeconds(25);
    private readonly TextWriter _output;

    public LocalSystem(LocalSettings settings, TextWriter output)
    {
        Settings = settings;
        _output = output;
        Directory.CreateDirectory(settings.Run);
        Directory.CreateDirectory(settings.Logs);
    }

    public LocalSettings Settings { get; }

    /// <summary>
    /// The votes database: the one PostgreSQL server, or with <c>--postgres-ha</c> both nodes of the formation, the
    /// applications connecting to whichever is the primary.
    /// </summary>
    public string ConnectionString => HighAvailability
        ? PostgresHaCluster.ConnectionString(HaOptions().NodePorts, Database)
        : string.Create(CultureInfo.InvariantCulture,
            $"Host=127.0.0.1;Port={PortOf("postgres", Settings.PostgresPort)};Database={Database};Username={PostgresServer.Superuser}");

    /// <summary>
    /// True once <c>up --postgres-ha</c> made PostgreSQL a formation of a primary, a synchronous standby and a
    /// pg_auto_failover monitor (<c>run/postgres-ha</c> says so until <c>down</c>).
    /// </summary>
    public bool HighAvailability => File.Exists(HighAvailabilityMarker);

    /// <summary>
    /// True once <c>up --tls</c> gave the balancer HTTPS (<c>run/tls</c> says so until <c>down</c>): the front ends then
    /// require it, as in production, and are reached through the balancer only.
    /// </summary>
    public bool Tls => File.Exists(TlsMarker);

    /// <summary>The balancer's HTTPS address with <see cref="Tls"/>.</summary>
    public Uri HttpsUrl => new($"https://127.0.0.1:{Settings.BalancerHttpsPort.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>
    /// The results app's public address: HTTPS with <see cref="Tls"/> (its plain port then redirects there but for the
    /// health probes), plain HTTP otherwise.
    /// </summary>
    public Uri ResultsUrl => Tls
        ? new($"https://127.0.0.1:{Settings.ResultsHttpsPort.ToString(CultureInfo.InvariantCulture)}/")
        : new($"http://127.0.0.1:{Settings.ResultsPort.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>
    /// Turns TLS on for the next start (until <c>down</c>), with the certificate in <see cref="LocalSettings.TlsDirectory"/>:
    /// made for 127.0.0.1 and localhost the first time, and again when it has less than a week left.
    /// </summary>
    public EdgeCertificate EnableTls()
    {
        Directory.CreateDirectory(Settings.Run);
        File.WriteAllText(TlsMarker, "tls\n");
        return Certificate();
    }

    /// <summary>The balancer's certificate for <see cref="Tls"/>, made when missing or about to expire.</summary>
    public EdgeCertificate Certificate()
    {
        var existing = new EdgeCertificate(Path.Combine(Settings.TlsDirectory, "edge.crt"), Path.Combine(Settings.TlsDirectory, "edge.key"));
        if (File.Exists(existing.CertificatePath) && File.Exists(existing.KeyPath) && existing.Load().NotAfter.ToUniversalTime() > DateTime.UtcNow.AddDays(7))
        {
            return existing;
        }

        _output.WriteLine($"  making a self-signed certificate for 127.0.0.1 and localhost in {Settings.TlsDirectory}");
        return EdgeCertificate.Create(Settings.TlsDirectory, EdgeCertificate.Loopback, TimeSpan.FromDays(90));
    }

    /// <summary>The process names of the votes database: <c>postgres</c>, or the formation's monitor and nodes.</summary>
    public IReadOnlyList<string> DatabaseNames => HighAvailability
        ? [ComponentRecord.MonitorName, .. Enumerable.Range(0, ComponentRecord.PostgresHaNodes).Select(PostgresHaCluster.NodeName)]
        : ["postgres"];

    /// <summary>PostgreSQL answers: the one server runs, or the formation's monitor and at least one node do.</summary>
    public bool IsDatabaseRunning => HighAvailability
        ? IsRunning(ComponentRecord.MonitorName) && DatabaseNames.Skip(1).Any(IsRunning)
        : IsRunning("postgres");

    /// <summary>Every process <c>./voting</c> started here and has not stopped, running or not, in start order.</summary>
    public IReadOnlyList<ComponentRecord> Components() =>
        [.. Directory.EnumerateFiles(Settings.Run, "*.json")
            .Select(ComponentRecord.Read)
            .OfType<ComponentRecord>()
            .Where(r => ComponentRecord.IsName(r.Name))
            .OrderBy(r => r.Kind).ThenBy(r => r.Index)];

    public ComponentRecord? Find(string name) => ComponentRecord.Read(RecordPath(name));

    public bool IsRunning(string name) => Find(name) is { } record && record.Process.IsAlive();

    /// <summary>The lowest number whose worker or front end does not run.</summary>
    public int NextIndex(ComponentKind kind)
    {
        var index = 1;
        while (IsRunning(ComponentRecord.NameOf(kind, index)))
        {
            index++;
        }

        return index;
    }

    public string LogPath(string name) => Path.Combine(Settings.Logs, name + ".log");

    // --- starting ---------------------------------------------------------------------------------------------

    /// <summary>Starts PostgreSQL unless it runs: one server, or (<paramref name="highAvailability"/>, or already so) the formation.</summary>
    public async Task StartPostgresAsync(bool highAvailability = false)
    {
        if (highAvailability && !HighAvailability)
        {
            if (IsRunning("postgres"))
            {
                throw new InvalidOperationException("PostgreSQL runs as one server here: ./voting down first, then up --postgres-ha.");
            }

            Directory.CreateDirectory(Settings.Run);
            File.WriteAllText(HighAvailabilityMarker, "pg_auto_failover\n");
        }

        if (HighAvailability)
        {
            await StartFormationAsync(only: null);
        }
        else
        {
            await StartSinglePostgresAsync();
        }
    }

    /// <summary>The formation, with the processes of it that run.</summary>
    public PostgresHaCluster Formation() => PostgresHaCluster.Attach(HaOptions(),
        Running(ComponentRecord.MonitorName)?.Process,
        [.. Enumerable.Range(0, ComponentRecord.PostgresHaNodes).Select(i => Running(PostgresHaCluster.NodeName(i))?.Process)]);

    private async Task StartFormationAsync(string? only)
    {
        var options = HaOptions();
        var formation = Formation();
        if (!Directory.Exists(options.Directory))
        {
            _output.WriteLine($"  creating the PostgreSQL formation (pg_auto_failover: monitor, primary, synchronous standby) in {options.Directory}");
        }

        try
        {
            switch (only)
            {
                case null:
                    await formation.EnsureRunningAsync();
                    break;
                case ComponentRecord.MonitorName:
                    await formation.StartMonitorAsync();
                    break;
                default:
                    await formation.StartNodeAsync(ComponentRecord.ParseIndexed(only)!.Value.Index - 1);
                    break;
            }
        }
        finally
        {
            // Whatever started is remembered, also when the formation did not settle in time.
            if (formation.Monitor is { HasExited: false } monitor)
            {
                new ComponentRecord(ComponentRecord.MonitorName, monitor.Identity, options.MonitorPort).Write(Settings.Run);
            }

            for (var i = 0; i < formation.Nodes.Count; i++)
            {
                if (formation.Nodes[i] is { HasExited: false } node)
                {
                    new ComponentRecord(PostgresHaCluster.NodeName(i), node.Identity, options.NodePorts[i]).Write(Settings.Run);
                }
            }
        }
    }

    private async Task<PostgresServer> StartSinglePostgresAsync()
    {
        var options = PostgresOptions();
        if (Running("postgres") is { } record && PostgresServer.Attach(options, record.Process) is { } running)
        {
            return running;
        }

        if (!File.Exists(Path.Combine(options.DataDirectory, "PG_VERSION")))
        {
            _output.WriteLine($"  initialising PostgreSQL in {options.DataDirectory}");
        }

        var server = await PostgresServer.StartAsync(options);
        new ComponentRecord("postgres", server.Process!.Identity, options.Port).Write(Settings.Run);
        await server.EnsureDatabaseAsync(Database);
        return server;
    }

    public async Task<RedisServer> StartRedisAsync(int index)
    {
        var name = ComponentRecord.NameOf(ComponentKind.Redis, index);
        var options = RedisOptions(index);
        if (Running(name) is { } record && RedisServer.Attach(options, record.Process) is { } running)
        {
            return running;
        }

        var server = await RedisServer.StartAsync(options);
        new ComponentRecord(name, server.Process!.Identity, options.Port).Write(Settings.Run);
        return server;
    }

    /// <summary>Starts worker silo <paramref name="index"/> (unless it runs); wait for it with <see cref="AppProcess.WaitReadyAsync"/>.</summary>
    public AppProcess StartWorker(int index)
    {
        return Start(Apps().Worker(ComponentRecord.NameOf(ComponentKind.Worker, index), ports: WorkerPorts(index)));
    }

    /// <summary>Starts front end <paramref name="index"/> and, first, its own Redis (unless they run).</summary>
    public async Task<AppProcess> StartFrontendAsync(int index)
    {
        var redis = await StartRedisAsync(index);
        var name = ComponentRecord.NameOf(ComponentKind.Frontend, index);
        var ports = PortsOf(name, Planned(Settings.WebHttpBase + index, Settings.WebSiloBase + index));
        return Start(Apps().Web(name, redis.Endpoint, ports: ports));
    }

    /// <summary>The results app; with <see cref="Tls"/>, serving HTTPS at <see cref="ResultsUrl"/> with the balancer's certificate.</summary>
    public AppProcess StartResults()
    {
        var settings = Tls ? Certificate().EdgeSettings(ResultsUrl.ToString().TrimEnd('/')) : null;
        return Start(Apps().Results("results", settings, PortsOf("results", Planned(Settings.ResultsPort))));
    }

    /// <summary>
    /// The load balancer. Besides the front ends the registry lists, it routes to those <c>up</c> starts, so that votes
    /// are taken even before the registry can be read; added ones register.
    /// </summary>
    public AppProcess StartBalancer()
    {
        var settings = BalancerSeeds();
        if (Tls)
        {
            foreach (var (key, value) in Certificate().EdgeSettings(HttpsUrl.ToString().TrimEnd('/')))
            {
                settings[key] = value;
            }
        }

        return Start(Apps().Balancer("balancer", settings, PortsOf("balancer", Planned(Settings.BalancerPort))));
    }

    /// <summary>
    /// For <c>./voting bench tls</c>: a second balancer beside the system's plain one, routing to the same front ends,
    /// that serves HTTPS at <paramref name="https"/> (free ports otherwise). Not remembered in <c>run/</c>: the caller stops it.
    /// </summary>
    public AppProcess StartBenchTlsBalancer(Uri https)
    {
        var settings = BalancerSeeds();
        foreach (var (key, value) in Certificate().EdgeSettings(https.ToString().TrimEnd('/')))
        {
            settings[key] = value;
        }

        return AppProcess.Start(Apps().Balancer("bench-tls-balancer", settings));
    }

    /// <summary>The front ends <c>up</c> starts, which a balancer routes to before the registry can be read.</summary>
    private Dictionary<string, string?> BalancerSeeds() => Enumerable.Range(1, Settings.Frontends).ToDictionary(
        i => "Balancer__Frontends__" + ComponentRecord.NameOf(ComponentKind.Frontend, i),
        i => (string?)$"http://127.0.0.1:{PortOf(ComponentRecord.NameOf(ComponentKind.Frontend, i), Settings.WebHttpBase + i).ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>Starts the named process (and a front end's Redis) again; applications are returned to wait for.</summary>
    public async Task<AppProcess?> StartAsync(string name)
    {
        switch (ComponentRecord.KindOf(name))
        {
            case ComponentKind.Postgres or ComponentKind.PostgresMonitor when HighAvailability:
                await StartFormationAsync(only: name);
                return null;
            case ComponentKind.Postgres or ComponentKind.PostgresMonitor:
                await StartPostgresAsync();
                return null;
            case ComponentKind.Redis:
                await StartRedisAsync(ComponentRecord.ParseIndexed(name)!.Value.Index);
                return null;
            case ComponentKind.Worker:
                return StartWorker(ComponentRecord.ParseIndexed(name)!.Value.Index);
            case ComponentKind.Frontend:
                return await StartFrontendAsync(ComponentRecord.ParseIndexed(name)!.Value.Index);
            case ComponentKind.Results:
                return StartResults();
            default:
                return StartBalancer();
        }
    }

    // --- stopping ---------------------------------------------------------------------------------------------

    /// <summary>Stops the named process and forgets it; PostgreSQL with its fast shutdown, the others with SIGTERM.</summary>
    public async Task StopAsync(string name)
    {
        if (Find(name) is not { } record)
        {
            return;
        }

        if (record.Kind is ComponentKind.Postgres && record.Index == 0)
        {
            if (PostgresServer.Attach(PostgresOptions(), record.Process) is { } postgres)
            {
                await postgres.StopAsync();
            }
        }
        else if (LocalProcess.Attach(name, record.Process, LogPath(name)) is { } process)
        {
            // A pg_autoctl keeper stops its PostgreSQL (a fast shutdown) before it ends.
            var grace = record.IsApplication ? AppStopGrace : record.Kind is ComponentKind.Redis ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(60);
            if (!await process.StopAsync(grace))
            {
                _output.WriteLine($"  {name} did not stop in {grace.TotalSeconds:F0}s; killed it");
            }
        }

        File.Delete(RecordPath(name));
    }

    /// <summary>
    /// Stops everything in the reverse of the start order: the load balancer and the results app, the front ends, the
    /// worker silos one at a time (the last started first), the Redis servers, PostgreSQL (a formation's standby
    /// before its primary, so that the primary is not failed over on the way down, then the monitor). Processes of
    /// one kind but the workers and the formation's nodes stop together.
    /// </summary>
    public async Task DownAsync()
    {
        var primary = HighAvailability && IsDatabaseRunning ? await PrimaryOrNullAsync() : null;
        foreach (var group in Components().GroupBy(r => r.Kind switch
        {
            ComponentKind.Results => ComponentKind.Balancer,
            var kind => kind,
        }).OrderByDescending(g => g.Key))
        {
            if (group.Key is ComponentKind.Worker)
            {
                foreach (var worker in group.Reverse())
                {
                    await StopAsync(worker.Name);
                }
            }
            else if (group.Key is ComponentKind.Postgres)
            {
                foreach (var node in group.OrderBy(r => r.Index - 1 == primary))
                {
                    await StopAsync(node.Name);
                }
            }
            else
            {
                await Task.WhenAll(group.Select(r => StopAsync(r.Name)));
            }
        }

        File.Delete(HighAvailabilityMarker);
        File.Delete(TlsMarker);
    }

    /// <summary>The formation node that is the primary now (0 or 1), or null when the monitor cannot say.</summary>
    public async Task<int?> PrimaryOrNullAsync()
    {
        try
        {
            return await Formation().PrimaryAsync();
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    /// <summary>Kills the named process at once (<c>kill -9</c>), as a crash would; it stays remembered, to start again.</summary>
    public async Task KillAsync(string name)
    {
        if (Running(name) is { } record)
        {
            if (record.Kind is ComponentKind.Postgres && record.Index == 0)
            {
                // PostgreSQL's immediate shutdown: every backend ends at once, recovery from the WAL at the next start.
                await PostgresServer.Attach(PostgresOptions(), record.Process)!.StopImmediatelyAsync();
            }
            else if (record.Kind is ComponentKind.Postgres)
            {
                // A formation's node dies as its machine would: the keeper, its PostgreSQL and every backend at once.
                await Formation().KillNodeAsync(record.Index - 1);
            }
            else if (record.Kind is ComponentKind.PostgresMonitor && LocalProcess.Attach(name, record.Process, LogPath(name)) is { } monitor)
            {
                monitor.KillGroupNow();
                await monitor.Exited.WaitAsync(TimeSpan.FromSeconds(30));
            }
            else if (LocalProcess.Attach(name, record.Process, LogPath(name)) is { } process)
            {
                process.KillNow();
                await process.Exited.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
    }

    // --- settings ---------------------------------------------------------------------------------------------

    /// <summary>The management token every application here requires: <c>management.token</c> in the data directory.</summary>
    public string ManagementToken() => Voting.Local.Applications.ManagementToken.ReadOrCreate(Settings.ManagementTokenPath);

    /// <summary>An HTTP client for the applications' management ports, sending the management token.</summary>
    public HttpClient ManagementClient(TimeSpan? timeout = null) => Voting.Local.Applications.ManagementToken.Client(ManagementToken(), timeout);

    private VotingApps Apps() => new(ConnectionString, Settings.Logs, SigningKey())
    {
        ManagementToken = ManagementToken(),
        // One per system, in the data directory: every silo and client of it presents it, and requires it of the others.
        ClusterCertificate = Voting.Local.Tls.ClusterCertificate.ReadOrCreate(Path.Combine(Settings.Data, "cluster-tls")),
        // One pair per system: the seal's signing key and the pseudonym key, which the workers seal with.
        Sealing = Voting.Local.Sealing.PollSecrets.ReadOrCreate(Path.Combine(Settings.Data, "poll")),
        // The front ends' receipts link to the results app's receipt page.
        ResultsUrl = ResultsUrl,
        Redis = RedisAccounts(),
        Roles = PostgresRoles(),
        Clustering = Settings.Clustering,
        // Localhost clustering: worker01 keeps the membership table, and clients connect through its gateway.
        PrimarySilo = Settings.Clustering == "Localhost" ? WorkerPorts(1).Silo : null,
        LocalhostGateway = Settings.Clustering == "Localhost" ? WorkerPorts(1).Gateway : null,
        // With TLS at the balancer the front ends require HTTPS (its X-Forwarded-Proto), as in production.
        Settings = Tls ? new Dictionary<string, string?> { ["Edge__RequireHttps"] = "true" } : new Dictionary<string, string?>(),
    };

    private AppPorts WorkerPorts(int index) => PortsOf(ComponentRecord.NameOf(ComponentKind.Worker, index),
        Planned(Settings.WorkerHttpBase + index, Settings.WorkerSiloBase + index, Settings.WorkerGatewayBase + index));

    /// <summary>The ports an application gets the first time: its HTTP port, that plus the management offset, its silo ports.</summary>
    private AppPorts Planned(int http, int? silo = null, int? gateway = null) => new(http, http + Settings.ManagementOffset, silo, gateway);

    private AppProcess Start(AppLaunch launch)
    {
        if (Running(launch.Name) is { } record && AppProcess.Attach(launch, record.Process) is { } running)
        {
            _output.WriteLine($"  {launch.Name} already runs (pid {record.Process.Pid})");
            return running;
        }

        var app = AppProcess.Start(launch);
        new ComponentRecord(launch.Name, app.Process.Identity, launch.Ports.Http, launch.Ports.Silo, launch.Ports.Gateway, launch.Ports.Management).Write(Settings.Run);
        return app;
    }

    private PostgresServerOptions PostgresOptions() => new()
    {
        DataDirectory = Path.Combine(Settings.Data, "postgres"),
        Port = PortOf("postgres", Settings.PostgresPort),
        LogPath = LogPath("postgres"),
        Roles = PostgresRoles(),
    };

    /// <summary>
    /// The formation: <c>postgres01</c> on <c>VOTING_PG_PORT</c> (the primary when it is created), <c>postgres02</c>
    /// on the next port (its standby), the monitor on the one after; data in <c>postgres-ha/</c>.
    /// </summary>
    private PostgresHaOptions HaOptions() => new()
    {
        Directory = Path.Combine(Settings.Data, "postgres-ha"),
        MonitorPort = PortOf(ComponentRecord.MonitorName, Settings.PostgresPort + ComponentRecord.PostgresHaNodes),
        NodePorts = [.. Enumerable.Range(0, ComponentRecord.PostgresHaNodes).Select(i => PortOf(PostgresHaCluster.NodeName(i), Settings.PostgresPort + i))],
        LogDirectory = Settings.Logs,
        Database = Database,
        Roles = PostgresRoles(),
    };

    private string HighAvailabilityMarker => Path.Combine(Settings.Run, "postgres-ha");

    private string TlsMarker => Path.Combine(Settings.Run, "tls");

    private RedisServerOptions RedisOptions(int index)
    {
        var name = ComponentRecord.NameOf(ComponentKind.Redis, index);
        return new RedisServerOptions
        {
            Name = name,
            Directory = Path.Combine(Settings.Data, name),
            Port = PortOf(name, Settings.RedisBase + index),
            LogPath = LogPath(name),
            AppendFsync = Settings.AppendFsync,
            MaxMemory = Settings.RedisMaxMemory,
            Accounts = RedisAccounts(),
        };
    }

    /// <summary>The votes database's login roles' passwords, made once for this system and kept in the data directory (mode 0600).</summary>
    private PostgresRoles PostgresRoles() => Voting.Local.Servers.PostgresRoles.ReadOrCreate(Settings.Data);

    /// <summary>The Redis ACL users' passwords, made once for this system and kept in the data directory (mode 0600).</summary>
    private RedisAccounts RedisAccounts() => Voting.Local.Servers.RedisAccounts.ReadOrCreate(Settings.Data);

    /// <summary>The ports the process had when it was last started here, else <paramref name="planned"/>.</summary>
    private AppPorts PortsOf(string name, AppPorts planned) =>
        Find(name) is { } record
            ? new AppPorts(record.Port, record.ManagementPort ?? planned.Management, record.SiloPort ?? planned.Silo, record.GatewayPort ?? planned.Gateway)
            : planned;

    private int PortOf(string name, int planned) => Find(name)?.Port ?? planned;

    private ComponentRecord? Running(string name) => Find(name) is { } record && record.Process.IsAlive() ? record : null;

    private string RecordPath(string name) => Path.Combine(Settings.Run, name + ".json");

    /// <summary>The voter-cookie key every front end shares, made once and kept in the data directory.</summary>
    private string SigningKey()
    {
        var path = Path.Combine(Settings.Data, "voter-cookie.key");
        if (!File.Exists(path))
        {
            File.WriteAllText(path + ".tmp", Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
            File.SetUnixFileMode(path + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite);

            File.Move(path + ".tmp", path, overwrite: false);
        }

        return File.ReadAllText(path).Trim();
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Voting.Local.Processes;

namespace Voting.Cli.Local;

/// <summary>The kinds of process <c>./voting</c> runs, in the order they start (and, reversed, stop).</summary>
internal enum ComponentKind
{
    /// <summary><c>pgmonitor</c>: the pg_auto_failover monitor, with <c>--postgres-ha</c>.</summary>
    PostgresMonitor,

    /// <summary><c>postgres</c>, or with <c>--postgres-ha</c> <c>postgres01</c> and <c>postgres02</c> (pg_autoctl keepers).</summary>
    Postgres,
    Redis,
    Worker,
    Frontend,
    Results,
    Balancer,
}

/// <summary>
/// What <c>./voting</c> remembers of a process it started, in <c>run/{name}.json</c>: which process it is and the
/// ports it was given, so that a later command finds it, and starting it again gives it the same ports.
/// </summary>
/// <param name="Name"><c>postgres</c> (or <c>pgmonitor</c>, <c>postgres01</c>, <c>postgres02</c>), <c>redis01</c>, <c>worker01</c>, <c>frontend01</c>, <c>results</c> or <c>balancer</c>.</param>
/// <param name="Process">The process, by pid and start time.</param>
/// <param name="Port">Its HTTP port; PostgreSQL's and Redis's own port for those.</param>
/// <param name="SiloPort">A silo host's silo port.</param>
/// <param name="GatewayPort">A worker silo's gateway port.</param>
/// <param name="ManagementPort">An application's management port (dashboard, metrics, health details, operator APIs).</param>
internal sealed record ComponentRecord(string Name, ProcessIdentity Process, int Port, int? SiloPort = null, int? GatewayPort = null, int? ManagementPort = null)
{
    public const string MonitorName = Voting.Local.Servers.PostgresHaCluster.MonitorName;

    /// <summary>The nodes of the PostgreSQL formation <c>--postgres-ha</c> runs: a primary and its standby.</summary>
    public const int PostgresHaNodes = 2;

    [JsonIgnore]
    public ComponentKind Kind => KindOf(Name);

    /// <summary>The number of a worker, front end or Redis (<c>frontend02</c>: 2); 0 for the others.</summary>
    [JsonIgnore]
    public int Index => IndexOf(Name);

    /// <summary>Where an application answers HTTP.</summary>
    [JsonIgnore]
    public Uri Url => new($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>Where an application's management surfaces answer, with the management token.</summary>
    [JsonIgnore]
    public Uri? ManagementUrl => ManagementPort is { } port ? new($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/") : null;

    [JsonIgnore]
    public bool IsApplication => Kind is ComponentKind.Worker or ComponentKind.Frontend or ComponentKind.Results or ComponentKind.Balancer;

    public static string NameOf(ComponentKind kind, int index) => kind is ComponentKind.PostgresMonitor ? MonitorName :
        kind.ToString().ToLowerInvariant() + (index > 0 ? index.ToString("00", CultureInfo.InvariantCulture) : "");

    public static ComponentKind KindOf(string name) => name switch
    {
        "postgres" => ComponentKind.Postgres,
        MonitorName => ComponentKind.PostgresMonitor,
        _ when name.StartsWith("postgres", StringComparison.Ordinal) => ComponentKind.Postgres,
        "results" => ComponentKind.Results,
        "balancer" => ComponentKind.Balancer,
        _ when name.StartsWith("redis", StringComparison.Ordinal) => ComponentKind.Redis,
        _ when name.StartsWith("worker", StringComparison.Ordinal) => ComponentKind.Worker,
        _ when name.StartsWith("frontend", StringComparison.Ordinal) => ComponentKind.Frontend,
        _ => throw new ArgumentException($"'{name}' is not a process ./voting runs.", nameof(name)),
    };

    /// <summary>
    /// True for the names <c>./voting</c> gives: postgres (or pgmonitor, postgres01, postgres02), results, balancer,
    /// redisNN, workerNN, frontendNN.
    /// </summary>
    public static bool IsName(string name) =>
        name is "postgres" or MonitorName or "results" or "balancer"
        || (ParseIndexed(name) is { } indexed && NameOf(indexed.Kind, indexed.Index) == name
            && (indexed.Kind is not ComponentKind.Postgres || indexed.Index <= PostgresHaNodes));

    public static (ComponentKind Kind, int Index)? ParseIndexed(string name)
    {
        foreach (var kind in (ComponentKind[])[ComponentKind.Postgres, ComponentKind.Redis, ComponentKind.Worker, ComponentKind.Frontend])
        {
            var prefix = kind.ToString().ToLowerInvariant();
            if (name.StartsWith(prefix, StringComparison.Ordinal)
                && int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index is > 0 and < 100)
            {
                return (kind, index);
            }
        }

        return null;
    }

    public static ComponentRecord? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), ComponentRecordJson.Default.ComponentRecord);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            // Gone meanwhile, or written by something else: not one of ours.
            return null;
        }
    }

    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, Name + ".json");
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, ComponentRecordJson.Default.ComponentRecord));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static int IndexOf(string name) => ParseIndexed(name)?.Index ?? 0;
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(ComponentRecord))]
internal sealed partial class ComponentRecordJson : JsonSerializerContext;

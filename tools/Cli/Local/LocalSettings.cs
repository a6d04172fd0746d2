using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;
using Voting.Local;

namespace Voting.Cli.Local;

/// <summary>
/// How <c>./voting</c> lays the system out on this machine, read from its environment (<c>VOTING_*</c>, see
/// README.md): where its data and logs live, how many workers and front ends <c>up</c> starts, and the loopback
/// ports. Worker silo N and front end N (1, 2, ...) take a base port plus N; each application's management port is its
/// HTTP port plus <see cref="ManagementOffset"/>.
/// </summary>
internal sealed partial record LocalSettings
{
    public required string Data { get; init; }

    public string Run => Path.Combine(Data, "run");

    public string Logs => Path.Combine(Data, "logs");

    public int Workers { get; init; } = 1;

    public int Frontends { get; init; } = 2;

    /// <summary><c>AdoNet</c> (PostgreSQL) or <c>Localhost</c>.</summary>
    public string Clustering { get; init; } = "AdoNet";

    /// <summary>The Redis servers' fsync policy: <c>everysec</c> or <c>always</c>.</summary>
    public string AppendFsync { get; init; } = "everysec";

    /// <summary>
    /// Each Redis server's <c>maxmemory</c> (<c>1gb</c>, as on the Swarm; <c>0</c>: no limit). A front end whose Redis
    /// is near it answers not ready; a full one refuses votes with 503 instead of growing until the machine runs out.
    /// </summary>
    public string RedisMaxMemory { get; init; } = "1gb";

    public int PostgresPort { get; init; } = 5433;

    public int ResultsPort { get; init; } = 8090;

    /// <summary>The results app's HTTPS port with <c>up --tls</c> (its plain port then redirects there).</summary>
    public int ResultsHttpsPort { get; init; } = 8490;

    public int BalancerPort { get; init; } = 8080;

    /// <summary>The balancer's HTTPS port with <c>up --tls</c> (its plain port then redirects there).</summary>
    public int BalancerHttpsPort { get; init; } = 8443;

    /// <summary><c>up --tls</c>: the self-signed certificate (and key) of the balancer's and the results app's HTTPS, made once for 127.0.0.1 and localhost.</summary>
    public string TlsDirectory => Path.Combine(Data, "tls");

    public int WorkerHttpBase { get; init; } = 8069;

    public int WorkerSiloBase { get; init; } = 11110;

    public int WorkerGatewayBase { get; init; } = 29999;

    public int WebHttpBase { get; init; } = 8080;

    public int WebSiloBase { get; init; } = 11120;

    public int RedisBase { get; init; } = 6380;

    /// <summary>An application's management port is its HTTP port plus this (worker01: 8070 and 9070).</summary>
    public int ManagementOffset { get; init; } = 1000;

    /// <summary>The management token every application of this system requires, made once (readable by this user only).</summary>
    public string ManagementTokenPath => Path.Combine(Data, "management.token");

    /// <summary>The settings in <paramref name="environment"/> (this process's when null); a bad value is refused naming its variable.</summary>
    public static LocalSettings FromEnvironment(IDictionary? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariables();
        var failures = new List<string>();
        string Text(string name, string fallback) => environment[name] is string { Length: > 0 } value ? value : fallback;
        int Number(string name, int fallback, int min, int max)
        {
            var text = Text(name, fallback.ToString(CultureInfo.InvariantCulture));
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            failures.Add($"{name} must be a whole number from {min} to {max}, not '{text}'.");
            return fallback;
        }

        string OneOf(string name, string fallback, params string[] allowed)
        {
            var text = Text(name, fallback);
            if (allowed.Contains(text, StringComparer.Ordinal))
            {
                return text;
            }

            failures.Add($"{name} must be {string.Join(" or ", allowed)}, not '{text}'.");
            return fallback;
        }

        string Memory(string name, string fallback)
        {
            var text = Text(name, fallback);
            if (MemoryPattern().IsMatch(text))
            {
                return text.ToLowerInvariant();
            }

            failures.Add($"{name} must be a Redis memory size such as 1gb, 512mb or 0 (no limit), not '{text}'.");
            return fallback;
        }

        const int MaxPort = 65535 - 99;
        var settings = new LocalSettings
        {
            Data = Path.GetFullPath(Text("VOTING_DATA", Path.Combine(Repository.Root, ".voting"))),
            Workers = Number("VOTING_WORKERS", 1, 1, 99),
            Frontends = Number("VOTING_FRONTENDS", 2, 1, 99),
            Clustering = OneOf("VOTING_CLUSTERING", "AdoNet", "AdoNet", "Localhost"),
            AppendFsync = OneOf("VOTING_APPENDFSYNC", "everysec", "everysec", "always"),
            RedisMaxMemory = Memory("VOTING_REDIS_MAXMEMORY", "1gb"),
            PostgresPort = Number("VOTING_PG_PORT", 5433, 1, 65535),
            ResultsPort = Number("VOTING_RESULTS_PORT", 8090, 1, 65535),
            ResultsHttpsPort = Number("VOTING_RESULTS_HTTPS_PORT", 8490, 1, 65535),
            BalancerPort = Number("VOTING_BALANCER_PORT", 8080, 1, 65535),
            BalancerHttpsPort = Number("VOTING_BALANCER_HTTPS_PORT", 8443, 1, 65535),
            WorkerHttpBase = Number("VOTING_WORKER_HTTP_BASE", 8069, 0, MaxPort),
            WorkerSiloBase = Number("VOTING_WORKER_SILO_BASE", 11110, 0, MaxPort),
            WorkerGatewayBase = Number("VOTING_WORKER_GATEWAY_BASE", 29999, 0, MaxPort),
            WebHttpBase = Number("VOTING_WEB_HTTP_BASE", 8080, 0, MaxPort),
            WebSiloBase = Number("VOTING_WEB_SILO_BASE", 11120, 0, MaxPort),
            RedisBase = Number("VOTING_REDIS_BASE", 6380, 0, MaxPort),
            ManagementOffset = Number("VOTING_MANAGEMENT_OFFSET", 1000, 1, 30000),
        };
        return failures.Count == 0 ? settings : throw new LocalSettingsException(failures);
    }

    [GeneratedRegex("^[0-9]{1,12}(b|kb|mb|gb)?$", RegexOptions.IgnoreCase)]
    private static partial Regex MemoryPattern();
}

/// <summary>One or more <c>VOTING_*</c> settings cannot be used; the message names each.</summary>
internal sealed class LocalSettingsException(IReadOnlyList<string> failures) : Exception(string.Join(Environment.NewLine, failures));

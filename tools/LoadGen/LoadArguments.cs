using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Voting.LoadGen;

/// <summary>The command line: <c>--name value</c> or <c>--name=value</c>; every option has a default.</summary>
public static class LoadArguments
{
    public const string Usage =
        """
        Usage: Voting.LoadGen [options]

        Simulates voters (browsers with their own voter cookie) voting through the front ends, then waits for the
        pipeline to drain and audits PostgreSQL: every acknowledged vote counted, exactly once, the latest one.
        Exit code: 0 audit passed, 1 audit failed (or the run could not start), 2 bad arguments.

          --frontends URL[,URL...]  vote front ends, voters spread over them  (http://127.0.0.1:8081,http://127.0.0.1:8082)
          --ca FILE                 trust only the PEM certificate(s) in FILE for https:// front ends (the self-signed
                                    certificate of ./voting up --tls: .voting/tls/edge.crt)  (the system's roots)
          --results URL|none        results app whose GET /api/results must equal the tallies  (http://127.0.0.1:8090)
          --postgres CS|none        votes database (Npgsql connection string); none: no drain, no audit
                                    (Host=127.0.0.1;Port=5433;Database=voting;Username=voting)
          --voters N                simulated voters (stuffing: identities tried)  (10000)
          --scenario crowd|stuffing crowd: voters from simulated addresses (X-Forwarded-For from 198.18.0.0/15);
                                    stuffing: one client, its own address, minting identities as fast as it can
                                    and voting once with each  (crowd)
          --voters-per-address N    crowd: voters sharing one simulated client address  (1)
          --concurrency N           voters simulated at once  (64)
          --rate N                  votes per second over all voters, 0 = as fast as possible  (0)
          --duration T              stop sending after T  (2m)
          --change-share F          share of voters who change their vote, 2-3 votes  (0.2)
          --double-share F          share of voters who send the same vote twice at once  (0.05)
          --form-share F            share of voters who vote with the form instead of the JSON API  (0.2)
          --seed N                  seeds every voter's choices  (1)
          --timeout T               a request unanswered after T is given up: its vote is uncertain  (10s)
          --drain-timeout T         how long the audit waits for the pipeline to write everything  (2m)
          --progress T              how often the progress line is written  (1s)
          --receipts FILE|none      keep every acknowledged vote's receipt in FILE, for the receipts check once the
                                    poll is sealed and released (Voting.LoadGen receipts --receipts FILE)  (none)
          -h, --help                this text

        Voting.LoadGen receipts --help: the receipts check.

        T is a duration: 90 (seconds), 500ms, 30s, 2m, 1h or 00:01:30. F is a share between 0 and 1.
        """;

    /// <summary>Reads the command line; the error names the argument at fault.</summary>
    public static ParsedArguments Parse(IReadOnlyList<string> args)
    {
        var defaults = new LoadOptions();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (ReadValues(args, Known, values) is { } unread)
        {
            return unread.Length == 0 ? new ParsedArguments(null, null, Help: true) : Error(unread);
        }

        try
        {
            var options = new LoadOptions
            {
                Frontends = values.TryGetValue("--frontends", out var frontends) ? Urls("--frontends", frontends) : defaults.Frontends,
                TrustedCertificates = values.TryGetValue("--ca", out var ca) ? Certificates(ca) : defaults.TrustedCertificates,
                Results = values.TryGetValue("--results", out var results) ? (IsNone(results) ? null : Url("--results", results)) : defaults.Results,
                Postgres = values.TryGetValue("--postgres", out var postgres) ? (IsNone(postgres) ? null : postgres) : defaults.Postgres,
                Voters = Integer(values, "--voters", defaults.Voters),
                Scenario = values.TryGetValue("--scenario", out var scenario) ? Scenario(scenario) : defaults.Scenario,
                VotersPerAddress = Integer(values, "--voters-per-address", defaults.VotersPerAddress),
                Concurrency = Integer(values, "--concurrency", defaults.Concurrency),
                Rate = Number(values, "--rate", defaults.Rate),
                Duration = Duration(values, "--duration", defaults.Duration),
                ChangeShare = Number(values, "--change-share", defaults.ChangeShare),
                DoubleShare = Number(values, "--double-share", defaults.DoubleShare),
                FormShare = Number(values, "--form-share", defaults.FormShare),
                Seed = Integer(values, "--seed", defaults.Seed),
                RequestTimeout = Duration(values, "--timeout", defaults.RequestTimeout),
                DrainTimeout = Duration(values, "--drain-timeout", defaults.DrainTimeout),
                ProgressInterval = Duration(values, "--progress", defaults.ProgressInterval),
                ReceiptsFile = values.TryGetValue("--receipts", out var receipts) ? (IsNone(receipts) ? null : receipts) : defaults.ReceiptsFile,
            };
            return options.Validate() is { } problem ? Error(problem) : new ParsedArguments(options, null, Help: false);
        }
        catch (FormatException e)
        {
            return Error(e.Message);
        }
    }

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "--frontends", "--ca", "--results", "--postgres", "--voters", "--scenario", "--voters-per-address", "--concurrency", "--rate", "--duration", "--change-share",
        "--double-share", "--form-share", "--seed", "--timeout", "--drain-timeout", "--progress", "--receipts",
    };

    /// <summary>
    /// Reads <c>--name value</c> and <c>--name=value</c> pairs of <paramref name="known"/> options into
    /// <paramref name="values"/> (a later one wins): null when they all read, "" for a request for help, else the problem.
    /// </summary>
    internal static string? ReadValues(IReadOnlyList<string> args, IReadOnlySet<string> known, Dictionary<string, string> values)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                return "";
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                return $"'{arg}' is not an option (options start with --; see --help).";
            }

            string name, value;
            if (arg.IndexOf('=', StringComparison.Ordinal) is > 2 and var equals)
            {
                (name, value) = (arg[..equals], arg[(equals + 1)..]);
            }
            else if (i + 1 < args.Count)
            {
                (name, value) = (arg, args[++i]);
            }
            else
            {
                return $"{arg} needs a value.";
            }

            if (!known.Contains(name))
            {
                return $"{name} is not an option (see --help).";
            }

            values[name] = value;
        }

        return null;
    }

    private static LoadScenario Scenario(string value) =>
        value.Equals("crowd", StringComparison.OrdinalIgnoreCase) ? LoadScenario.Crowd
        : value.Equals("stuffing", StringComparison.OrdinalIgnoreCase) ? LoadScenario.Stuffing
        : throw new FormatException($"--scenario: '{value}' is not a scenario (crowd or stuffing).");

    /// <summary>The certificates of a PEM file, for <c>--ca</c>.</summary>
    internal static X509Certificate2[] Certificates(string path)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new FormatException($"--ca: '{path}' cannot be read as PEM certificates ({e.Message}).");
        }

        return certificates.Count > 0 ? [.. certificates] : throw new FormatException($"--ca: '{path}' holds no PEM certificate.");
    }

    private static ParsedArguments Error(string message) => new(null, message, Help: false);

    private static bool IsNone(string value) => value.Length == 0 || value.Equals("none", StringComparison.OrdinalIgnoreCase);

    private static Uri[] Urls(string name, string value) =>
        [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(url => Url(name, url))];

    internal static Uri Url(string name, string value)
    {
        return Uri.TryCreate(value, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? LoadOptions.Directory(url)
            : throw new FormatException($"{name}: '{value}' is not an http(s) URL.");
    }

    internal static int Integer(Dictionary<string, string> values, string name, int fallback) =>
        !values.TryGetValue(name, out var value) ? fallback
        : int.TryParse(value.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var number) ? number
        : throw new FormatException($"{name}: '{value}' is not a whole number.");

    private static double Number(Dictionary<string, string> values, string name, double fallback) =>
        !values.TryGetValue(name, out var value) ? fallback
        : double.TryParse(value, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? number
        : throw new FormatException($"{name}: '{value}' is not a number.");

    internal static TimeSpan Duration(Dictionary<string, string> values, string name, TimeSpan fallback)
    {
        if (!values.TryGetValue(name, out var value))
        {
            return fallback;
        }

        var (digits, unit) = value.EndsWith("ms", StringComparison.Ordinal) ? (value[..^2], 0.001)
            : value.EndsWith('s') ? (value[..^1], 1)
            : value.EndsWith('m') ? (value[..^1], 60)
            : value.EndsWith('h') ? (value[..^1], 3600)
            : (value, 1.0);
        if (double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && double.IsFinite(amount) && Math.Abs(amount * unit) < 1e9)
        {
            return TimeSpan.FromSeconds(amount * unit);
        }

        return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span)
            ? span
            : throw new FormatException($"{name}: '{value}' is not a duration (e.g. 90, 500ms, 30s, 2m, 1h, 00:01:30).");
    }
}

/// <summary>The command line read: options to run, an error naming the bad argument, or a request for help.</summary>
public sealed record ParsedArguments(LoadOptions? Options, string? Error, bool Help);

using Npgsql;

namespace Voting.LoadGen;

/// <summary>What the simulated clients are.</summary>
public enum LoadScenario
{
    /// <summary>A crowd: each voter from a simulated address of its own (<see cref="LoadOptions.VotersPerAddress"/>), voting once or a few times.</summary>
    Crowd,

    /// <summary>
    /// Ballot stuffing: one client (the load tool's own address, no forwarded header) minting identities as fast as it
    /// can and voting once with each, through the JSON API.
    /// </summary>
    Stuffing,
}

/// <summary>What a load run does: how many voters, how fast, against which front ends, and where to audit.</summary>
public sealed record LoadOptions
{
    /// <summary>A crowd of voters, or one client stuffing the ballot box.</summary>
    public LoadScenario Scenario { get; init; } = LoadScenario.Crowd;

    /// <summary>
    /// Crowd: voters that share one simulated client address (<see cref="Voters.SimulatedAddresses"/>). 1, the default,
    /// gives each voter its own and keeps every address far below the front ends' default per-address limits.
    /// </summary>
    public int VotersPerAddress { get; init; } = 1;

    /// <summary>
    /// The client address voter <paramref name="voter"/> presents in <c>X-Forwarded-For</c>, to the front ends and to the
    /// results app when its receipts are checked; null in the stuffing scenario (the tool's own address, nothing forwarded).
    /// </summary>
    public string? AddressOf(int voter) => Scenario == LoadScenario.Stuffing ? null : Voting.LoadGen.Voters.SimulatedAddresses.For(voter, VotersPerAddress);

    /// <summary>The vote front ends; voters are spread over them.</summary>
    public IReadOnlyList<Uri> Frontends { get; init; } = [new("http://127.0.0.1:8081/"), new("http://127.0.0.1:8082/")];

    /// <summary>
    /// Certificates trusted for HTTPS instead of the system's (<c>--ca FILE</c>, PEM): the self-signed certificate of
    /// <c>./voting up --tls</c> or <c>./voting swarm up</c>. Empty: the system's trusted roots, as a browser would.
    /// </summary>
    public IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> TrustedCertificates { get; init; } = [];

    /// <summary>The results app, whose <c>GET /api/results</c> must agree with the tallies; null to skip that check.</summary>
    public Uri? Results { get; init; } = new("http://127.0.0.1:8090/");

    /// <summary>The votes database (Npgsql connection string); null runs the load without drain and audit.</summary>
    public string? Postgres { get; init; } = "Host=127.0.0.1;Port=5433;Database=voting;Username=voting";

    /// <summary>Simulated voters (browsers), each with a cookie of its own.</summary>
    public int Voters { get; init; } = 10_000;

    /// <summary>Voters simulated at the same time; a double-submitter has two votes in flight.</summary>
    public int Concurrency { get; init; } = 64;

    /// <summary>Votes per second over all voters; 0 sends as fast as the concurrency allows.</summary>
    public double Rate { get; init; }

    /// <summary>No vote is sent after this much time; votes in flight are still answered or time out.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Share of voters who change their vote: 2 or 3 sequential votes, each for another option.</summary>
    public double ChangeShare { get; init; } = 0.2;

    /// <summary>Share of voters who send the same vote twice at the same time (a double click).</summary>
    public double DoubleShare { get; init; } = 0.05;

    /// <summary>Share of voters who vote through the page's form (<c>POST /</c>) instead of the JSON API.</summary>
    public double FormShare { get; init; } = 0.2;

    /// <summary>Seeds each voter's choices (kind, options, front ends, form or JSON): a run can be repeated.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>A request unanswered after this long is given up: the vote is uncertain.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the audit waits for the pipeline to write every acknowledged vote.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How often a progress line is written.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Where the run keeps every acknowledged vote's receipt (<see cref="Receipts.ReceiptFile"/>); null: nowhere.</summary>
    public string? ReceiptsFile { get; init; }

    /// <summary>The first problem with these options, naming the argument, or null when they are usable.</summary>
    public string? Validate()
    {
        if (Frontends.Count == 0)
        {
            return "--frontends: at least one front-end URL is needed.";
        }

        foreach (var frontend in Frontends)
        {
            if (!frontend.IsAbsoluteUri || (frontend.Scheme != Uri.UriSchemeHttp && frontend.Scheme != Uri.UriSchemeHttps))
            {
                return $"--frontends: '{frontend}' is not an http(s) URL.";
            }
        }

        if (Results is { } results && (!results.IsAbsoluteUri || (results.Scheme != Uri.UriSchemeHttp && results.Scheme != Uri.UriSchemeHttps)))
        {
            return $"--results: '{results}' is not an http(s) URL.";
        }

        if (Postgres is { } postgres)
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(postgres);
            }
            catch (ArgumentException e)
            {
                return $"--postgres: the connection string cannot be read: {e.Message}";
            }
        }

        return Voters < 1 ? "--voters must be at least 1."
            : VotersPerAddress is < 1 or > 1_000_000 ? "--voters-per-address must be between 1 and 1000000."
            : Concurrency is < 1 or > 10_000 ? "--concurrency must be between 1 and 10000."
            : !double.IsFinite(Rate) || Rate < 0 ? "--rate must be 0 (as fast as possible) or a positive number of votes per second."
            : Duration <= TimeSpan.Zero || Duration > MaxTime ? "--duration must be positive and at most a day."
            : !IsShare(ChangeShare) ? "--change-share must be between 0 and 1."
            : !IsShare(DoubleShare) ? "--double-share must be between 0 and 1."
            : ChangeShare + DoubleShare > 1 ? "--change-share and --double-share add up to more than 1."
            : !IsShare(FormShare) ? "--form-share must be between 0 and 1."
            : RequestTimeout <= TimeSpan.Zero || RequestTimeout > MaxTime ? "--timeout must be positive and at most a day."
            : DrainTimeout < TimeSpan.Zero || DrainTimeout > MaxTime ? "--drain-timeout must be between 0 and a day."
            : ProgressInterval < TimeSpan.FromMilliseconds(10) || ProgressInterval > MaxTime ? "--progress must be between 10ms and a day."
            : null;
    }

    private static bool IsShare(double share) => share is >= 0 and <= 1;

    /// <summary>The longest duration any option takes: timers and HTTP timeouts take at most about 24 days.</summary>
    private static readonly TimeSpan MaxTime = TimeSpan.FromDays(1);

    /// <summary>The address with a trailing slash, so that relative paths (<c>api/votes</c>) resolve below it.</summary>
    internal static Uri Directory(Uri address) =>
        address.AbsolutePath.EndsWith('/') ? address : new UriBuilder(address) { Path = address.AbsolutePath + "/" }.Uri;
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Voting.LoadGen.Receipts;

/// <summary>What the receipts check asks, of which results app, how hard and for how long.</summary>
public sealed record ReceiptCheckOptions
{
    /// <summary>The results app, whose public port serves the seal and the proof lookup once the results are released.</summary>
    public Uri Results { get; init; } = new("http://127.0.0.1:8090/");

    /// <summary>Over HTTPS, trust only these certificates (a self-signed edge certificate); empty: the system's roots.</summary>
    public IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> TrustedCertificates { get; init; } = [];

    /// <summary>Lookups in flight at once.</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>
    /// How long answers that say "not yet" (409: not sealed or not released), "ask again" (503: the seal is being loaded)
    /// or "limited" (429) are asked again, after their Retry-After.
    /// </summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How many superseded receipts (of voters who voted more than once) are looked up too.</summary>
    public int SupersededSample { get; init; } = 1000;

    /// <summary>A request unanswered after this long fails.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The first problem with these options, naming the argument, or null.</summary>
    public string? Validate() =>
        !Results.IsAbsoluteUri || (Results.Scheme != Uri.UriSchemeHttp && Results.Scheme != Uri.UriSchemeHttps) ? $"--results: '{Results}' is not an http(s) URL."
        : Concurrency is < 1 or > 1000 ? "--concurrency must be between 1 and 1000."
        : Deadline < TimeSpan.Zero || Deadline > TimeSpan.FromDays(1) ? "--deadline must be between 0 and a day."
        : SupersededSample < 0 ? "--superseded must be 0 or more."
        : RequestTimeout <= TimeSpan.Zero || RequestTimeout > TimeSpan.FromDays(1) ? "--timeout must be positive and at most a day."
        : null;
}

/// <summary>What the receipts check found.</summary>
/// <param name="Checked">Receipts looked up: every voter's latest, and the superseded sample.</param>
/// <param name="Included">Latest receipts answered "included" with a proof that checks out, of the vote on the receipt.</param>
/// <param name="SupersededAsExpected">Superseded receipts answered "superseded" with a checked proof of the voter's latest vote.</param>
/// <param name="SupersededByUnconfirmed">
/// Latest acknowledged receipts of uncertain voters answered "superseded" by a later vote the voter never heard
/// acknowledged (it may legitimately be the counted one), with a checked proof.
/// </param>
/// <param name="Failures">Every receipt that did not check out, each named with why.</param>
public sealed record ReceiptReport(long Checked, long Included, long SupersededAsExpected, long SupersededByUnconfirmed, IReadOnlyList<string> Failures)
{
    /// <summary>How many failures the report lists one by one.</summary>
    public const int FailuresListed = 10;

    public bool Passed => Failures.Count == 0 && Checked > 0;

    public string Describe()
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"Receipts: checked {Checked:N0}  included {Included:N0}  superseded as expected {SupersededAsExpected:N0}  superseded by an unconfirmed vote {SupersededByUnconfirmed:N0}  failed {Failures.Count:N0}");
        foreach (var failure in Failures.Take(FailuresListed))
        {
            text += "\n  " + failure;
        }

        if (Failures.Count > FailuresListed)
        {
            text += string.Create(CultureInfo.InvariantCulture, $"\n  ... and {Failures.Count - FailuresListed:N0} more");
        }

        return text + "\n" + (Passed ? "RECEIPTS PASSED" : Checked == 0 ? "RECEIPTS FAILED: no receipt to check" : "RECEIPTS FAILED");
    }
}

/// <summary>
/// The receipts check of a load run, once the poll is sealed and its results released: the published manifest's
/// signature verified with the published key, then every voter's latest acknowledged receipt looked up
/// (<c>GET /api/receipts/{voteId}?code=</c>) and its proof checked (<see cref="ProofCheck"/>), and a sample of
/// superseded receipts answered "superseded" with the proof of the voter's latest vote.
/// </summary>
public static class ReceiptCheck
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(500);

    /// <exception cref="LoadRunException">The seal is not published within the deadline, or does not verify.</exception>
    public static async Task<ReceiptReport> RunAsync(
        ReceiptCheckOptions options, IReadOnlyList<VoterReceipts> voters, TextWriter output, CancellationToken cancellationToken)
    {
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false }.Trusting(options.TrustedCertificates))
        {
            Timeout = options.RequestTimeout,
        };
        var results = LoadOptions.Directory(options.Results);
        var deadline = DateTime.UtcNow + options.Deadline;
        var seal = await FetchSealAsync(http, results, deadline, cancellationToken);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"The seal of {seal.Manifest.PollId} ({seal.Manifest.Ballots:N0} ballots, root {seal.Manifest.MerkleRoot}) verifies with the published key; looking up {voters.Count:N0} voters' receipts at {results}..."));

        var lookups = voters.Select(v => new Lookup(v, v.Latest, Superseded: false))
            .Concat(voters.Where(v => v.Votes.Count > 1).Take(options.SupersededSample).Select(v => new Lookup(v, v.Superseded.First(), Superseded: true)))
            .ToList();
        var tally = new Tally();
        await Parallel.ForEachAsync(lookups, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken },
            async (lookup, token) => tally.Add(lookup, await JudgeAsync(http, results, seal, lookup, deadline, token)));
        return tally.Report();
    }

    /// <summary>A receipt to look up: a voter's latest, or one of their superseded ones.</summary>
    private sealed record Lookup(VoterReceipts Voter, KeptReceipt Receipt, bool Superseded)
    {
        public string Name => string.Create(CultureInfo.InvariantCulture, $"voter {Voter.Voter} vote {Receipt.VoteId:D} code {Voter.Code}");
    }

    private enum Verdict
    {
        Included,
        SupersededAsExpected,
        SupersededByUnconfirmed,
        Failed,
    }

    private sealed class Tally
    {
        private readonly ConcurrentQueue<string> _failures = new();
        private long _checked, _included, _superseded, _unconfirmed;

        public void Add(Lookup lookup, (Verdict Verdict, string? Problem) judged)
        {
            Interlocked.Increment(ref _checked);
            switch (judged.Verdict)
            {
                case Verdict.Included:
                    Interlocked.Increment(ref _included);
                    break;
                case Verdict.SupersededAsExpected:
                    Interlocked.Increment(ref _superseded);
                    break;
                case Verdict.SupersededByUnconfirmed:
                    Interlocked.Increment(ref _unconfirmed);
                    break;
                default:
                    _failures.Enqueue($"{lookup.Name}{(lookup.Superseded ? " (superseded)" : " (latest)")}: {judged.Problem}");
                    break;
            }
        }

        public ReceiptReport Report() => new(_checked, _included, _superseded, _unconfirmed, [.. _failures]);
    }

    private static async Task<PublishedSeal> FetchSealAsync(HttpClient http, Uri results, DateTime deadline, CancellationToken cancellationToken)
    {
        var manifest = await GetPublishedAsync(http, new Uri(results, "api/results/final/manifest.json"), deadline, cancellationToken);
        var key = await GetPublishedAsync(http, new Uri(results, "api/results/final/public-key.pem"), deadline, cancellationToken);
        try
        {
            return PublishedSeal.Verify(manifest, System.Text.Encoding.UTF8.GetString(key));
        }
        catch (FormatException e)
        {
            throw new LoadRunException($"The published seal at {results} does not verify: {e.Message}");
        }
    }

    /// <summary>A published file, asked again while the answer says "not yet" (<see cref="AskAgainAfter"/>) until the deadline.</summary>
    private static async Task<byte[]> GetPublishedAsync(HttpClient http, Uri uri, DateTime deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            try
            {
                using var response = await http.GetAsync(uri, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return await response.Content.ReadAsByteArrayAsync(cancellationToken);
                }

                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                wait = AskAgainAfter(response.StatusCode, response.Headers.RetryAfter?.Delta, deadline)
                    ?? throw new LoadRunException($"GET {uri} answered {(int)response.StatusCode}: {body}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new LoadRunException($"GET {uri} failed: {e.Message}", e);
            }

            await Task.Delay(wait, cancellationToken);
        }
    }

    /// <summary>
    /// How long to wait before asking again, or null when the answer is final: "not yet" (409: not sealed or not released),
    /// "ask again" (503: the seal is being loaded, as it is for a few seconds after sealing) and "limited" (429: voters
    /// sharing an address, --voters-per-address) are asked again, after their Retry-After when they send one, as a browser
    /// would — while the wait ends before the deadline.
    /// </summary>
    private static TimeSpan? AskAgainAfter(HttpStatusCode status, TimeSpan? retryAfter, DateTime deadline)
    {
        if (status is not (HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests))
        {
            return null;
        }

        var wait = retryAfter is { } said && said > TimeSpan.Zero ? said : RetryInterval;
        return DateTime.UtcNow + wait < deadline ? wait : null;
    }

    private static async Task<(Verdict, string?)> JudgeAsync(
        HttpClient http, Uri results, PublishedSeal seal, Lookup lookup, DateTime deadline, CancellationToken cancellationToken)
    {
        var uri = new Uri(results, $"api/receipts/{lookup.Receipt.VoteId:D}?code={Uri.EscapeDataString(lookup.Voter.Code.ToString())}");
        while (true)
        {
            HttpStatusCode status;
            JsonElement body;
            TimeSpan? retryAfter;
            try
            {
                // As the voter asks: from their own client address, which the tool presents as a trusted proxy hop would
                // (the results app's limits are per address, and a real deployment's voters come from many).
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                if (lookup.Voter.Address is { } address)
                {
                    request.Headers.TryAddWithoutValidation("X-Forwarded-For", address);
                }

                using var response = await http.SendAsync(request, cancellationToken);
                status = response.StatusCode;
                retryAfter = response.Headers.RetryAfter?.Delta;
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                try
                {
                    using var document = JsonDocument.Parse(text);
                    body = document.RootElement.Clone();
                }
                catch (JsonException)
                {
                    return (Verdict.Failed, $"{(int)status}, not JSON: {Shorten(text)}");
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return (Verdict.Failed, "the lookup failed: " + e.Message);
            }

            if (AskAgainAfter(status, retryAfter, deadline) is { } wait)
            {
                await Task.Delay(wait, cancellationToken);
                continue;
            }

            return status == HttpStatusCode.OK ? Judge(seal, lookup, body) : (Verdict.Failed, $"{(int)status} {Shorten(body.GetRawText())}");
        }
    }

    /// <summary>A 200's answer against what the voter's receipts say it must be.</summary>
    private static (Verdict, string?) Judge(PublishedSeal seal, Lookup lookup, JsonElement body)
    {
        var status = body.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        if (!body.TryGetProperty("proof", out var proof))
        {
            return (Verdict.Failed, $"answered '{status}' without a proof");
        }

        var (ballot, problem) = ProofCheck.Check(seal, lookup.Voter.Code, proof);
        if (ballot is not { } proven)
        {
            return (Verdict.Failed, $"answered '{status}', but {problem}");
        }

        var latest = lookup.Voter.Latest;
        switch (status)
        {
            case "included" when !lookup.Superseded && proven.VoteId == lookup.Receipt.VoteId && proven.Option == lookup.Receipt.Option:
                return (Verdict.Included, null);
            case "included":
                return (Verdict.Failed, $"answered 'included' with the ballot of vote {proven.VoteId:D} for '{proven.Option}'; expected {(lookup.Superseded ? "'superseded'" : $"vote {lookup.Receipt.VoteId:D} for '{lookup.Receipt.Option}'")}");
            case "superseded" when lookup.Superseded && proven.VoteId == latest.VoteId && proven.Option == latest.Option:
                return (Verdict.SupersededAsExpected, null);
            case "superseded" when lookup.Voter.Uncertain && proven.VoteId.CompareTo(lookup.Receipt.VoteId) > 0:
                return (Verdict.SupersededByUnconfirmed, null);
            case "superseded":
                return (Verdict.Failed, $"answered 'superseded' by vote {proven.VoteId:D} for '{proven.Option}'; expected {(lookup.Superseded ? $"the latest, vote {latest.VoteId:D} for '{latest.Option}'" : "'included'")}");
            default:
                return (Verdict.Failed, $"answered 200 with status '{status}'");
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "...";
}

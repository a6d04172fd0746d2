using System.Globalization;
using System.Text;
using Voting.LoadGen.Auditing;
using Voting.LoadGen.Measuring;

namespace Voting.LoadGen;

/// <summary>What a load run measured, the ground truth it gathered, and what the audit found (null when not audited).</summary>
public sealed record LoadReport(LoadSummary Load, GroundTruth Truth, AuditReport? Audit)
{
    /// <summary>Nothing lost, nothing double counted, every row right; true when not audited.</summary>
    public bool Passed => Audit?.Passed ?? true;

    /// <summary>0 when the audit passed (or did not run), 1 when it found a problem.</summary>
    public int ExitCode => Passed ? 0 : 1;
}

/// <summary>Latency percentiles of one kind of request.</summary>
public sealed record LatencySummary(long Count, TimeSpan P50, TimeSpan P90, TimeSpan P99, TimeSpan P999, TimeSpan Max, TimeSpan Mean)
{
    public static LatencySummary From(LatencyHistogram histogram) => new(
        histogram.Count, histogram.Percentile(50), histogram.Percentile(90), histogram.Percentile(99), histogram.Percentile(99.9),
        histogram.Max, histogram.Mean);
}

/// <summary>The load phase's figures.</summary>
public sealed record LoadSummary
{
    public required LoadScenario Scenario { get; init; }

    public required int VotersPlanned { get; init; }

    /// <summary>Voters that opened their page before sending stopped.</summary>
    public required int VotersStarted { get; init; }

    /// <summary>Vote pages that issued a cookie.</summary>
    public required long Pages { get; init; }

    public required long PagesFailed { get; init; }

    /// <summary>Of <see cref="PagesFailed"/>, the pages answered 429: identities the front ends would not issue.</summary>
    public required long PagesLimited { get; init; }

    /// <summary>Pages and votes answered 429 without a <c>Retry-After</c> header.</summary>
    public required long LimitedWithoutRetryAfter { get; init; }

    public required long VotesSent { get; init; }

    public required long Acknowledged { get; init; }

    public required long Refused { get; init; }

    public required IReadOnlyDictionary<int, long> RefusedByStatus { get; init; }

    /// <summary>Votes answered 503 (a front end or the balancer could not take them: Redis down or full, or overloaded).</summary>
    public long Unavailable => RefusedByStatus.GetValueOrDefault(503);

    /// <summary>Of <see cref="Unavailable"/>, those without a <c>Retry-After</c> header.</summary>
    public required long UnavailableWithoutRetryAfter { get; init; }

    /// <summary>Votes answered 429 (rate limited).</summary>
    public long RateLimited => RefusedByStatus.GetValueOrDefault(429);

    /// <summary>Votes answered with a 5xx other than 503: never expected, bad input included.</summary>
    public long OtherServerErrors => RefusedByStatus.Where(s => s.Key >= 500 && s.Key != 503).Sum(s => s.Value);

    public required long Errors { get; init; }

    public required IReadOnlyDictionary<RequestError, long> ErrorsByKind { get; init; }

    /// <summary>From the first vote page to the last answer.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Votes answered (or given up) per second over <see cref="Elapsed"/>.</summary>
    public required double VotesPerSecond { get; init; }

    /// <summary>Answered votes (acknowledged or refused); requests without an answer are counted as errors instead.</summary>
    public required LatencySummary VoteLatency { get; init; }

    /// <summary>Acknowledged votes only: what the voters whose vote was taken waited.</summary>
    public required LatencySummary AcknowledgedLatency { get; init; }

    public required LatencySummary PageLatency { get; init; }

    /// <summary>Voters whose receipts put a later-sent vote for another option first (see <see cref="GroundTruth.ReceiptsOutOfSendOrder"/>).</summary>
    public required int ReceiptsOutOfSendOrder { get; init; }

    internal static LoadSummary Create(LoadOptions options, LoadCounters counters, LoadLatencies latencies, int started, TimeSpan elapsed, GroundTruth truth) => new()
    {
        Scenario = options.Scenario,
        VotersPlanned = options.Voters,
        VotersStarted = started,
        Pages = counters.Pages,
        PagesFailed = counters.PagesFailed,
        PagesLimited = counters.PagesLimited,
        LimitedWithoutRetryAfter = counters.LimitedWithoutRetryAfter,
        VotesSent = counters.Sent,
        Acknowledged = counters.Acknowledged,
        Refused = counters.Refused,
        RefusedByStatus = counters.RefusedByStatus(),
        UnavailableWithoutRetryAfter = counters.UnavailableWithoutRetryAfter,
        Errors = counters.Errors,
        ErrorsByKind = counters.ErrorsByKind(),
        Elapsed = elapsed,
        VotesPerSecond = elapsed > TimeSpan.Zero ? counters.Completed / elapsed.TotalSeconds : 0,
        VoteLatency = LatencySummary.From(latencies.Votes),
        AcknowledgedLatency = LatencySummary.From(latencies.Acknowledged),
        PageLatency = LatencySummary.From(latencies.Pages),
        ReceiptsOutOfSendOrder = truth.ReceiptsOutOfSendOrder,
    };
}

/// <summary>The run's figures and findings as text.</summary>
public static class ReportText
{
    public static string Load(LoadSummary load)
    {
        var text = new StringBuilder();
        Line(text, $"Load done in {load.Elapsed.TotalSeconds:F1} s: {load.VotersStarted:N0} of {load.VotersPlanned:N0} voters started, vote pages {load.Pages:N0} ({load.PagesFailed:N0} failed), votes sent {load.VotesSent:N0}");
        Line(text, $"  votes/s {load.VotesPerSecond:N0}  acknowledged {load.Acknowledged:N0}  refused {load.Refused:N0}{ByKey(load.RefusedByStatus)}  errors {load.Errors:N0}{ByKey(load.ErrorsByKind)}");
        Line(text, $"  vote latency  {Percentiles(load.VoteLatency)}");
        Line(text, $"  acknowledged  {Percentiles(load.AcknowledgedLatency)}");
        if (load.VotesSent > 0)
        {
            Line(text, $"  answered 503 {Share(load.Unavailable, load.VotesSent)} ({load.Unavailable:N0}, {load.UnavailableWithoutRetryAfter:N0} without Retry-After), 429 {Share(load.RateLimited, load.VotesSent)} ({load.RateLimited:N0}), other 5xx {load.OtherServerErrors:N0}");
        }
        Line(text, $"  page latency  {Percentiles(load.PageLatency)}");
        if (load.PagesLimited > 0 || load.Scenario == LoadScenario.Stuffing)
        {
            Line(text, $"  vote pages answered 429 (no identity issued): {load.PagesLimited:N0}; 429s without Retry-After: {load.LimitedWithoutRetryAfter:N0}");
        }

        if (load.Scenario == LoadScenario.Stuffing)
        {
            Line(text, $"Stuffing from one client: identities obtained {load.Pages:N0} of {load.VotersStarted:N0} tried, votes acknowledged {load.Acknowledged:N0} ({load.Acknowledged / Math.Max(load.Elapsed.TotalSeconds, 0.001):N0}/s), pages 429 {load.PagesLimited:N0}, votes 429 {load.RateLimited:N0}, 5xx {load.RefusedByStatus.Where(s => s.Key >= 500).Sum(s => s.Value):N0}");
        }
        if (load.ReceiptsOutOfSendOrder > 0)
        {
            Line(text, $"  {load.ReceiptsOutOfSendOrder:N0} voters' receipts order a later-sent vote before an earlier one (front-end clocks apart); the receipts' order is expected");
        }

        return text.ToString().TrimEnd();
    }

    public static string Audit(AuditReport audit, LoadSummary? load)
    {
        var text = new StringBuilder();
        if (audit.Drained)
        {
            Line(text, $"Audit: drained in {audit.DrainTime.TotalSeconds:F1} s");
        }
        else
        {
            Line(text, $"Audit: NOT drained within the drain timeout ({audit.DrainTime.TotalSeconds:F1} s); what is missing now is reported as lost");
        }

        Line(text, $"  acknowledged    {audit.Acknowledged,10:N0}  voters with an acknowledged vote ({audit.AcknowledgedVotes:N0} votes acknowledged)");
        Line(text, $"  counted         {audit.Counted,10:N0}  voters whose row holds their latest acknowledged vote (or an unconfirmed one)");
        Line(text, $"  lost            {audit.Lost,10:N0}  acknowledged voters without a row");
        Line(text, $"  double-counted  {audit.DoubleCounted,10:N0}  tally above the rows");
        Line(text, $"  wrong choice    {audit.WrongChoice,10:N0}  (wrong option {audit.WrongOption:N0}, wrong vote id {audit.WrongVoteId:N0}, rows never acknowledged {audit.Unexpected:N0})");
        Line(text, $"  uncertain       {audit.Uncertain,10:N0}  voters with a vote left unanswered or answered 5xx ({audit.UncertainTookUnconfirmed:N0} of them counted with it)");
        if (load is not null)
        {
            Line(text, $"  refused         {load.Refused,10:N0}  votes{ByKey(load.RefusedByStatus)}");
            Line(text, $"  errors          {load.Errors,10:N0}  votes without a usable answer{ByKey(load.ErrorsByKind)}");
        }
        var talliesExact = audit.DoubleCounted == 0 && audit.MissingFromTallies == 0;
        Line(text, $"  tallies = count(*) per option: {(talliesExact ? "yes" : "NO")} ({PerOption(audit.Tallies, audit.Rows)}, tallies vs rows, whole database)");
        Line(text, $"  this run's rows per option: {PerOption(audit.RunRows, audit.RunExpected)} (rows vs latest acknowledged)");
        if (audit.ResultsAgree is { } agree)
        {
            if (agree)
            {
                Line(text, $"  results API: total {audit.ResultsTotal:N0}, the tallies' counts");
            }
            else
            {
                Line(text, $"  results API: DISAGREES: {audit.ResultsProblem}");
            }
        }

        foreach (var example in audit.Examples)
        {
            Line(text, $"  e.g. {example}");
        }

        if (load?.Scenario == LoadScenario.Stuffing)
        {
            Line(text, $"Stuffing counted: {audit.Counted:N0} votes of one client are in the tallies ({load.Pages:N0} identities obtained, {load.Acknowledged:N0} votes acknowledged).");
        }

        if (audit.Passed)
        {
            Line(text, $"AUDIT PASSED: every acknowledged vote is counted, exactly once, latest wins.");
        }
        else
        {
            Line(text, $"AUDIT FAILED: lost {audit.Lost:N0}, double-counted {audit.DoubleCounted:N0}, wrong choice {audit.WrongChoice:N0}, missing from tallies {audit.MissingFromTallies:N0}{(audit.ResultsAgree == false ? ", results API disagrees" : "")}.");
        }
        return text.ToString().TrimEnd();
    }

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));

    private static string Percentiles(LatencySummary latency) => latency.Count == 0
        ? "no answers"
        : $"p50 {Latency.Format(latency.P50)}  p90 {Latency.Format(latency.P90)}  p99 {Latency.Format(latency.P99)}  p99.9 {Latency.Format(latency.P999)}  max {Latency.Format(latency.Max)}  (mean {Latency.Format(latency.Mean)}, {latency.Count.ToString("N0", CultureInfo.InvariantCulture)} answers)";

    private static string Share(long part, long whole) => (whole == 0 ? 0 : (double)part / whole).ToString("P1", CultureInfo.InvariantCulture);

    private static string ByKey<TKey>(IReadOnlyDictionary<TKey, long> counts)
        where TKey : notnull => counts.Count == 0
        ? ""
        : " (" + string.Join(", ", counts.OrderBy(c => c.Key).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key}: {c.Value:N0}"))) + ")";

    private static string PerOption(IReadOnlyDictionary<string, long> left, IReadOnlyDictionary<string, long> right) =>
        string.Join(", ", left.Keys.Union(right.Keys).Order(StringComparer.Ordinal).Select(o =>
        {
            var (l, r) = (left.GetValueOrDefault(o), right.GetValueOrDefault(o));
            return string.Create(CultureInfo.InvariantCulture, $"{o} {l:N0} {(l == r ? "=" : "!=")} {r:N0}");
        }));
}

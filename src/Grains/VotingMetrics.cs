using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Voting.Grains;

/// <summary>The worker tier's own instruments (meter <c>Voting.Worker</c>), next to Orleans' and .NET's.</summary>
internal static class VotingMetrics
{
    public const string MeterName = "Voting.Worker";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Verdicts = Meter.CreateCounter<long>(
        "voting.verdicts", unit: "{vote}", description: "Votes judged by the voter-identity shards, by verdict.");

    private static readonly Counter<long> EntriesRead = Meter.CreateCounter<long>(
        "voting.drain.entries_read", unit: "{entry}", description: "Stream entries read by the drainers.");

    private static readonly Counter<long> VotesWritten = Meter.CreateCounter<long>(
        "voting.drain.rows_changed", unit: "{row}", description: "Rows of the votes table inserted or replaced by the drainers.");

    private static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>(
        "voting.drain.commit_duration", unit: "s", description: "Time to write one batch to PostgreSQL and acknowledge it.");

    private static readonly ConcurrentDictionary<string, Func<DrainerGauges>> Drainers = new(StringComparer.Ordinal);

    private static readonly ObservableGauge<long> Backlog = Meter.CreateObservableGauge(
        "voting.drain.backlog", () => Observe(g => g.Backlog), unit: "{vote}",
        description: "Votes waiting in a front end's stream: delivered and not yet committed, or not yet delivered.");

    private static readonly ObservableGauge<double> OldestWait = Meter.CreateObservableGauge(
        "voting.drain.oldest_wait", () => Observe(g => g.OldestWaitSeconds), unit: "s",
        description: "How long the oldest waiting vote of a front end has waited.");

    private static readonly ObservableGauge<double> DrainRate = Meter.CreateObservableGauge(
        "voting.drain.rate", () => Observe(g => g.DrainRate), unit: "{vote}/s",
        description: "Stream entries a front end's drainer committed per second, over the last ten seconds.");

    private static readonly KeyValuePair<string, object?>[][] VerdictTags =
        Enum.GetValues<Verdict>().Select(v => new[] { new KeyValuePair<string, object?>("verdict", v.ToString()) }).ToArray();

    public static void RecordVerdicts(ReadOnlySpan<Verdict> verdicts)
    {
        Span<int> counts = stackalloc int[VerdictTags.Length];
        foreach (var verdict in verdicts)
        {
            counts[(int)verdict]++;
        }

        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] > 0)
            {
                Verdicts.Add(counts[i], VerdictTags[i]);
            }
        }
    }

    /// <summary>Reports a drainer's backlog gauges while its activation lives on this silo.</summary>
    public static void TrackDrainer(string frontendId, Func<DrainerGauges> read) => Drainers[frontendId] = read;

    public static void ForgetDrainer(string frontendId) => Drainers.TryRemove(frontendId, out _);

    private static IEnumerable<Measurement<T>> Observe<T>(Func<DrainerGauges, T> value)
        where T : struct =>
        Drainers.Select(d => new Measurement<T>(value(d.Value()), new KeyValuePair<string, object?>("frontend", d.Key)));

    public static void RecordBatch(string frontendId, int entries, int rowsChanged, TimeSpan commitDuration)
    {
        var tag = new KeyValuePair<string, object?>("frontend", frontendId);
        EntriesRead.Add(entries, tag);
        VotesWritten.Add(rowsChanged, tag);
        CommitDuration.Record(commitDuration.TotalSeconds, tag);
    }
}

/// <summary>The numbers a drainer reports as gauges.</summary>
internal readonly record struct DrainerGauges(long Backlog, double OldestWaitSeconds, double DrainRate);

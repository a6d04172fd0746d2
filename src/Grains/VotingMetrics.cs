using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Voting.Grains;

/// <summary>The worker tier's own instruments (meter <c>Voting.Worker</c>), next to Orleans' and .NET's.</summary>
internal static class VotingMetrics
{
    public const string MeterName = "Voting.Worker";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Verdicts = Meter.CreateCounter<long>(
        "voting.verdicts", unit: "{vote}", description: "Votes judged by the voter-identity shards, by verdict (every verdict but SupersededInBatch is written).");

    private static readonly Counter<long> EntriesRead = Meter.CreateCounter<long>(
        "voting.drain.entries_read", unit: "{entry}", description: "Stream entries read by the drainers.");

    private static readonly Counter<long> VotesWritten = Meter.CreateCounter<long>(
        "voting.drain.rows_changed", unit: "{row}", description: "Rows of the votes table inserted or replaced by the drainers.");

    private static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>(
        "voting.drain.commit_duration", unit: "s", description: "Time to write one batch to PostgreSQL and acknowledge it.");

    private static readonly ConcurrentDictionary<string, Func<DrainerGauges>> Drainers = new(StringComparer.Ordinal);

    private static readonly ObservableGauge<long> Backlog = Meter.CreateObservableGauge(
        "voting.drain.backlog", () => Observe<long>(g => g.Backlog), unit: "{vote}",
        description: "Votes waiting in a front end's stream: delivered and not yet committed, or not yet delivered. Not reported while the drain fails.");

    private static readonly ObservableGauge<double> OldestWait = Meter.CreateObservableGauge(
        "voting.drain.oldest_wait", () => Observe<double>(g => g.OldestWaitSeconds), unit: "s",
        description: "How long the oldest waiting vote of a front end has waited. Not reported while the drain fails.");

    private static readonly ObservableGauge<double> DrainRate = Meter.CreateObservableGauge(
        "voting.drain.rate", () => Observe<double>(g => g.DrainRate), unit: "{vote}/s",
        description: "Stream entries a front end's drainer committed per second, over the last ten seconds.");

    private static readonly ObservableGauge<double> Failing = Meter.CreateObservableGauge(
        "voting.drain.failing", () => Observe<double>(g => g.FailingSeconds), unit: "s",
        description: "How long a front end's drain has failed without a successful attempt (0 while it works): alert on it.");

    private static readonly Counter<long> GroupsRecreated = Meter.CreateCounter<long>(
        "voting.drain.groups_recreated", unit: "{group}", description: "Consumer groups a drainer found missing and created again.");

    private static readonly Counter<long> PendingDeleted = Meter.CreateCounter<long>(
        "voting.drain.pending_deleted", unit: "{entry}",
        description: "Pending entries found deleted from their stream (by something other than a drainer): votes that can no longer be counted.");

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

    private static IEnumerable<Measurement<T>> Observe<T>(Func<DrainerGauges, T?> value)
        where T : struct =>
        from drainer in Drainers
        let measured = value(drainer.Value())
        where measured is not null
        select new Measurement<T>(measured.Value, new KeyValuePair<string, object?>("frontend", drainer.Key));

    public static void RecordGroupRecreated(string frontendId) =>
        GroupsRecreated.Add(1, new KeyValuePair<string, object?>("frontend", frontendId));

    public static void RecordPendingDeleted(string frontendId, int count) =>
        PendingDeleted.Add(count, new KeyValuePair<string, object?>("frontend", frontendId));

    public static void RecordBatch(string frontendId, int entries, int rowsChanged, TimeSpan commitDuration)
    {
        var tag = new KeyValuePair<string, object?>("frontend", frontendId);
        EntriesRead.Add(entries, tag);
        VotesWritten.Add(rowsChanged, tag);
        CommitDuration.Record(commitDuration.TotalSeconds, tag);
    }
}

/// <summary>The numbers a drainer reports as gauges.</summary>
/// <param name="Backlog">Null while the drain fails: unknown.</param>
/// <param name="OldestWaitSeconds">Null while the drain fails: unknown.</param>
/// <param name="DrainRate">Entries committed per second over the last ten seconds.</param>
/// <param name="FailingSeconds">How long the drain has failed without a success; 0 while it works.</param>
internal readonly record struct DrainerGauges(long? Backlog, double? OldestWaitSeconds, double DrainRate, double FailingSeconds);

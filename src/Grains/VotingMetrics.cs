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

    public static void RecordBatch(string frontendId, int entries, int rowsChanged, TimeSpan commitDuration)
    {
        var tag = new KeyValuePair<string, object?>("frontend", frontendId);
        EntriesRead.Add(entries, tag);
        VotesWritten.Add(rowsChanged, tag);
        CommitDuration.Record(commitDuration.TotalSeconds, tag);
    }
}

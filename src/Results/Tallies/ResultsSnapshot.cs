using Voting.ServiceDefaults.Voting;

namespace Voting.Results.Tallies;

/// <summary>One option's count and share of the total.</summary>
public sealed record OptionResult(string Key, string Label, long Count, double Percent);

/// <summary>The counts as read from PostgreSQL at <see cref="ReadAt"/>.</summary>
public sealed record ResultsSnapshot(IReadOnlyList<OptionResult> Options, long Total, DateTimeOffset ReadAt)
{
    /// <summary>Every option on the ballot, in ballot order, then any option that has votes but is no longer on it.</summary>
    public static ResultsSnapshot Create(BallotOptions ballot, IReadOnlyDictionary<string, long> counts, DateTimeOffset readAt)
    {
        var total = counts.Values.Sum();
        var options = new List<OptionResult>(ballot.All.Count);
        foreach (var option in ballot.All)
        {
            options.Add(Result(option.Key, option.Label, counts.GetValueOrDefault(option.Key)));
        }

        foreach (var (key, count) in counts.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            if (!ballot.TryGet(key, out _))
            {
                options.Add(Result(key, key, count));
            }
        }

        return new ResultsSnapshot(options, total, readAt);

        OptionResult Result(string key, string label, long count) =>
            new(key, label, count, total == 0 ? 0 : Math.Round(100.0 * count / total, 1));
    }

    public bool SameCounts(ResultsSnapshot? other) =>
        other is not null && other.Total == Total && other.Options.Select(o => o.Count).SequenceEqual(Options.Select(o => o.Count));
}

namespace Voting.LoadGen.Measuring;

/// <summary>
/// Vote latencies over the whole run and over the current progress interval (two histograms used in turn, so the
/// progress line allocates nothing), and the vote pages' latencies.
/// </summary>
public sealed class LoadLatencies
{
    private readonly LatencyHistogram[] _intervals = [new(), new()];
    private int _current;

    /// <summary>Every answered vote (acknowledged or refused) since the start.</summary>
    public LatencyHistogram Votes { get; } = new();

    /// <summary>The acknowledged votes only: under overload, the latency of the votes that were taken.</summary>
    public LatencyHistogram Acknowledged { get; } = new();

    /// <summary>Every vote page (<c>GET /</c>).</summary>
    public LatencyHistogram Pages { get; } = new();

    /// <summary>Records an answered vote sent at <paramref name="startTimestamp"/>; returns its latency in microseconds.</summary>
    public long Record(long startTimestamp)
    {
        var microseconds = (long)System.Diagnostics.Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds;
        Votes.Record(microseconds);
        _intervals[Volatile.Read(ref _current)].Record(microseconds);
        return microseconds;
    }

    /// <summary>
    /// Ends the current interval and returns its histogram, valid until the next call. (A vote recorded just as the
    /// intervals switch may land in either: good enough for a progress line; the run's totals are exact.)
    /// </summary>
    public LatencyHistogram NextInterval()
    {
        var ended = Volatile.Read(ref _current);
        var next = 1 - ended;
        _intervals[next].Reset();
        Volatile.Write(ref _current, next);
        return _intervals[ended];
    }
}

using System.Globalization;

namespace Voting.LoadGen.Measuring;

/// <summary>
/// The line written about once a second while the load runs: the interval's vote rate and latency percentiles, and
/// the totals so far.
/// </summary>
internal sealed class ProgressLine(LoadCounters counters, LoadLatencies latencies, Func<int> votersStarted, int voters)
{
    private TimeSpan _last;
    private long _lastCompleted;

    public string Next(TimeSpan elapsed)
    {
        var completed = counters.Completed;
        var seconds = (elapsed - _last).TotalSeconds;
        var rate = seconds > 0 ? (completed - _lastCompleted) / seconds : 0;
        _last = elapsed;
        _lastCompleted = completed;
        var interval = latencies.NextInterval();
        return string.Create(CultureInfo.InvariantCulture,
            $"{elapsed.TotalSeconds,6:F1}s  votes/s {rate,7:N0}  acked {counters.Acknowledged:N0}  refused {counters.Refused:N0}  errors {counters.Errors:N0}  p50 {Latency.Format(interval.Percentile(50))} p90 {Latency.Format(interval.Percentile(90))} p99 {Latency.Format(interval.Percentile(99))}  voters {votersStarted():N0}/{voters:N0}");
    }
}

/// <summary>Latencies as people read them: 0.84ms, 12.3ms, 1.25s.</summary>
public static class Latency
{
    public static string Format(TimeSpan latency) => latency.TotalMilliseconds switch
    {
        < 10 => latency.TotalMilliseconds.ToString("0.00", CultureInfo.InvariantCulture) + "ms",
        < 1000 => latency.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + "ms",
        _ => latency.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + "s",
    };
}

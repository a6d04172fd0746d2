namespace Voting.Grains.Draining;

/// <summary>
/// What a drainer activation has done and how far behind its front end's stream it is: the counts of its commits,
/// the backlog (read from Redis at most once a second), the oldest waiting vote's wait and the drain rate over the
/// last ten seconds. The drainer's status and its gauges are read from here.
/// </summary>
internal sealed class DrainMeter
{
    private static readonly TimeSpan BacklogInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _timeProvider;
    private readonly DateTimeOffset _activatedAt;
    private readonly Queue<(DateTimeOffset At, long EntriesRead)> _rateSamples = new();
    private StreamBacklog _backlog;
    private DateTimeOffset? _backlogReadAt;
    private double _drainRate;
    private long _entriesRead;
    private long _votesWritten;
    private long _batchesCommitted;
    private DateTimeOffset? _firstCommitAt;
    private DateTimeOffset? _lastCommitAt;
    private DateTimeOffset? _failingSince;

    /// <summary>Starts measuring now, the activation's start.</summary>
    public DrainMeter(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _activatedAt = timeProvider.GetUtcNow();
        _rateSamples.Enqueue((_activatedAt, 0));
    }

    /// <summary>Counts a batch committed and acknowledged, here and in the worker's metrics.</summary>
    public void RecordCommit(string frontendId, int entries, int rowsChanged, TimeSpan elapsed)
    {
        _entriesRead += entries;
        _votesWritten += rowsChanged;
        _batchesCommitted++;
        _lastCommitAt = _timeProvider.GetUtcNow();
        _firstCommitAt ??= _lastCommitAt;
        VotingMetrics.RecordBatch(frontendId, entries, rowsChanged, elapsed);
    }

    /// <summary>At most once a second: how many votes wait, since when, and the drain rate over the last seconds.</summary>
    public async Task MeasureBacklogAsync(ConsumerGroup group)
    {
        var now = _timeProvider.GetUtcNow();
        if (_backlogReadAt is { } last && now - last < BacklogInterval)
        {
            return;
        }

        _backlog = await group.ReadBacklogAsync();
        _backlogReadAt = now;
        _rateSamples.Enqueue((now, _entriesRead));
        while (_rateSamples.Count > 1 && now - _rateSamples.Peek().At > RateWindow)
        {
            _rateSamples.Dequeue();
        }

        var (oldestAt, oldestEntries) = _rateSamples.Peek();
        _drainRate = now > oldestAt ? (_entriesRead - oldestEntries) / (now - oldestAt).TotalSeconds : 0;
    }

    /// <summary>A tick failed: from now until one succeeds the drain counts as failing, and the backlog as unknown.</summary>
    public void RecordFailure() => _failingSince ??= _timeProvider.GetUtcNow();

    public void RecordSuccess() => _failingSince = null;

    /// <summary>
    /// The gauges. While the drain fails the backlog cannot be read: it is reported as unknown (no measurement) rather
    /// than as its last value, which is usually 0, and the failing time grows, which is what an alert watches.
    /// </summary>
    public DrainerGauges Gauges() => _failingSince is { } since
        ? new(null, null, _drainRate, Math.Max(0, (_timeProvider.GetUtcNow() - since).TotalSeconds))
        : new(_backlog.Waiting, OldestWait(), _drainRate, 0);

    public DrainerStatus Status(string frontendId, string silo, string? lastError) => new(
        frontendId, silo, _entriesRead, _votesWritten, _batchesCommitted, _lastCommitAt, lastError, _activatedAt, _firstCommitAt,
        _backlog.Waiting, _backlog.Pending, _backlog.OldestWaitingSince, _drainRate, _backlogReadAt);

    private double OldestWait() => _backlog.OldestWaitingSince is { } since ? Math.Max(0, (_timeProvider.GetUtcNow() - since).TotalSeconds) : 0;
}

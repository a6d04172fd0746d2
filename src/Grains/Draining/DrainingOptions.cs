namespace Voting.Grains.Draining;

/// <summary>How drainers read, judge and commit (section <c>Draining</c>).</summary>
public sealed class DrainingOptions
{
    public const string SectionName = "Draining";

    /// <summary>Stream entries read and committed together.</summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>How often an idle drainer looks for new votes.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long one timer tick may keep draining before it yields.</summary>
    public TimeSpan MaxTickDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Entries pending this long with another consumer are taken over (that consumer is presumed dead).</summary>
    public TimeSpan ClaimIdleTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a drainer looks for entries left by other consumers, and removes consumers that are gone.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First wait after a failure (Redis or PostgreSQL unreachable); doubled on each further failure.</summary>
    public TimeSpan MinRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between attempts while a dependency stays down.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Number of voter-identity shards. Every drainer must use the same number (a mismatch costs speed, never correctness).</summary>
    public int ShardCount { get; set; } = VoterShards.DefaultCount;

    internal TimeSpan RetryDelay(int consecutiveFailures)
    {
        var exponent = Math.Min(consecutiveFailures - 1, 16);
        var delay = MinRetryDelay * Math.Pow(2, exponent);
        return delay < MaxRetryDelay ? delay : MaxRetryDelay;
    }
}

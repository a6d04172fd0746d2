using Microsoft.Extensions.Logging;

namespace Voting.Grains.Draining;

/// <summary>
/// What a drainer logs, in one place so that its event ids stay unique. Every part of a drainer logs through the
/// grain's logger (category <c>Voting.Grains.Draining.QueueDrainerGrain</c>).
/// </summary>
internal static partial class DrainerLog
{
    [LoggerMessage(1, LogLevel.Information, "Draining front end {FrontendId} from {RedisEndpoint} stream {StreamKey} as consumer {Consumer}")]
    public static partial void Draining(ILogger logger, string frontendId, string redisEndpoint, string streamKey, string consumer);

    [LoggerMessage(2, LogLevel.Debug, "Front end {FrontendId}: committed {Entries} entries, wrote {Votes} votes, {Changed} rows changed in {ElapsedMs:F1} ms")]
    public static partial void Committed(ILogger logger, string frontendId, int entries, int votes, int changed, double elapsedMs);

    [LoggerMessage(3, LogLevel.Warning, "Front end {FrontendId}: draining failed ({Failures} in a row); retrying in {Delay}")]
    public static partial void DrainFailed(ILogger logger, Exception exception, string frontendId, int failures, TimeSpan delay);

    [LoggerMessage(4, LogLevel.Information, "Front end {FrontendId}: draining again after {Failures} failed attempts")]
    public static partial void Recovered(ILogger logger, string frontendId, int failures);

    [LoggerMessage(5, LogLevel.Information, "Front end {FrontendId}: took over {Count} pending entries")]
    public static partial void Claimed(ILogger logger, string frontendId, int count);

    [LoggerMessage(6, LogLevel.Error, "Front end {FrontendId}: {Count} stream entries are not votes; moved to {DeadLetterStream}")]
    public static partial void Malformed(ILogger logger, string frontendId, int count, string deadLetterStream);

    [LoggerMessage(8, LogLevel.Warning, "Front end {FrontendId}: stream {StreamKey} has no consumer group (Redis lost it: restarted empty, flushed, or the group destroyed); creating it again from the stream's first entry")]
    public static partial void GroupMissing(ILogger logger, string frontendId, string streamKey);

    [LoggerMessage(9, LogLevel.Error, "Front end {FrontendId}: {Count} pending entries no longer exist in the stream (deleted or trimmed by something other than a drainer) and cannot be counted: {EntryIds}")]
    public static partial void PendingDeleted(ILogger logger, string frontendId, int count, string entryIds);

    [LoggerMessage(7, LogLevel.Warning, "Front end {FrontendId} retired: its drainer stopped with {Waiting} votes waiting (-1: unknown; forced: {Forced})")]
    public static partial void Retired(ILogger logger, string frontendId, long waiting, bool forced);
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Voting.Grains;
using Voting.ServiceDefaults.Voting;

namespace Voting.Web.Poll;

/// <summary>
/// This front end's copy of the poll's schedule: read from the poll grain every <c>Poll:RefreshInterval</c> in the
/// background, so that no vote waits on the grain. Each read also measures this front end's clock against the
/// grain's. Votes are decided on the copy (<see cref="VoteWindow"/>).
/// </summary>
public sealed partial class PollScheduleCopy(
    IGrainFactory grains,
    IOptions<PollOptions> options,
    TimeProvider timeProvider,
    ILogger<PollScheduleCopy> logger) : BackgroundService
{
    private readonly PollSchedule _configured = Configured(options.Value);
    private volatile PollCopy? _copy;

    // Set once the grain said the poll has a window: from then on this front end fails closed, even if it restarts
    // only with configuration that has none (it then fails closed only if Poll:Managed is set).
    private volatile bool _heardLimited;

    /// <summary>The latest copy, or null before the first read.</summary>
    public PollCopy? Latest => _copy;

    /// <summary>The schedule votes are decided on: the grain's as last read, else the configured one.</summary>
    public PollSchedule Schedule => _copy?.Status.Schedule ?? _configured;

    private bool Limited => options.Value.Limited || _heardLimited;

    /// <summary>Whether a vote with this server timestamp may be taken, from the copy alone.</summary>
    public VoteWindowAnswer Decide(DateTimeOffset voteTimestamp)
    {
        var copy = _copy;
        var age = copy is null ? TimeSpan.MaxValue : timeProvider.GetElapsedTime(copy.ReadAt);
        return VoteWindow.Decide(_configured, Limited, copy, age, options.Value.MaxScheduleAge, options.Value.MaxClockSkew, voteTimestamp);
    }

    public static PollSchedule Configured(PollOptions poll) =>
        new(poll.OpensAtTime, poll.ClosesAtTime, poll.Embargo, poll.ReleaseAtTime, poll.CloseNotice);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = options.Value;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = timeProvider.GetTimestamp();
            var sentAt = timeProvider.GetUtcNow();
            try
            {
                var status = await grains.GetPoll().GetStatusAsync().WaitAsync(poll.MaxScheduleAge, stoppingToken);
                var received = timeProvider.GetTimestamp();
                var roundTrip = timeProvider.GetElapsedTime(sent, received);
                var offset = status.ServerTime - (sentAt + roundTrip / 2);
                var copy = new PollCopy(status, offset, roundTrip, received);
                _heardLimited |= status.Managed;
                _copy = copy;
                if (failures > 0)
                {
                    LogRead(logger, failures);
                }

                failures = 0;
                if (VoteWindow.SkewBound(copy) > poll.MaxClockSkew)
                {
                    LogSkewed(logger, offset.TotalMilliseconds, roundTrip.TotalMilliseconds);
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // Log the first failure and then every tenth: the copy ages, and past Poll:MaxScheduleAge votes are refused.
                if (failures++ % 10 == 0)
                {
                    LogReadFailed(logger, failures, exception.Message);
                }
            }

            await Task.Delay(poll.RefreshInterval, timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "The poll's schedule cannot be read (attempt {Attempt}): {Error}; votes are refused once the copy is too old")]
    private static partial void LogReadFailed(ILogger logger, int attempt, string error);

    [LoggerMessage(2, LogLevel.Information, "The poll's schedule is read again after {Failures} failed attempts")]
    private static partial void LogRead(ILogger logger, int failures);

    [LoggerMessage(3, LogLevel.Warning, "This front end's clock is {OffsetMs} ms off the poll grain's (round trip {RoundTripMs} ms): votes are refused until it is within Poll:MaxClockSkew")]
    private static partial void LogSkewed(ILogger logger, double offsetMs, double roundTripMs);
}

/// <summary>Not ready while this front end cannot decide votes (a stale copy of the schedule or a skewed clock): balancers skip it.</summary>
public sealed class PollHealthCheck(PollScheduleCopy schedule, TimeProvider timeProvider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(schedule.Decide(timeProvider.GetUtcNow()) is { Verdict: VoteWindowVerdict.Unsure } answer
            ? HealthCheckResult.Unhealthy(answer.Sentence)
            : HealthCheckResult.Healthy());
}

using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Voting.Grains.Draining;

/// <summary>
/// What each timer tick of a drainer does, and when: on the first tick for a stream and after any failure it first
/// takes over everything pending in the group; every <see cref="DrainingOptions.SweepInterval"/> it takes over
/// entries another consumer left idle and removes consumers that are gone; then it drains new entries and measures
/// the backlog. After a failure it waits before the next attempt, longer each time.
/// </summary>
internal sealed class DrainCycle(
    string consumer,
    RedisConnections redisConnections,
    DrainLoop loop,
    DrainMeter meter,
    DrainingOptions options,
    TimeProvider timeProvider,
    ILogger logger)
{
    private FrontendInfo? _frontend;
    private bool _groupReady;
    private bool _recoverPending = true;
    private int _consecutiveFailures;
    private DateTimeOffset _retryAt;
    private DateTimeOffset _nextSweepAt;

    /// <summary>Why the last tick failed, or null if it did not.</summary>
    public string? LastError { get; private set; }

    /// <summary>Drains <paramref name="frontend"/>'s stream from the next tick on.</summary>
    public void Follow(FrontendInfo frontend)
    {
        // Only where the stream lives matters here; the front end's HTTP address is the balancers' business.
        if (_frontend is null || _frontend.RedisEndpoint != frontend.RedisEndpoint || _frontend.StreamKey != frontend.StreamKey)
        {
            DrainerLog.Draining(logger, frontend.FrontendId, frontend.RedisEndpoint, frontend.StreamKey, consumer);
            _groupReady = false;
            _recoverPending = true;
        }

        _frontend = frontend;
    }

    /// <summary>Drains nothing from now on.</summary>
    public void Stop() => _frontend = null;

    public async Task TickAsync(CancellationToken cancellationToken)
    {
        var frontend = _frontend;
        var now = timeProvider.GetUtcNow();
        if (frontend is null || now < _retryAt)
        {
            return;
        }

        try
        {
            var group = new ConsumerGroup(await redisConnections.GetDatabaseAsync(frontend.RedisEndpoint), frontend.StreamKey, consumer);
            if (!_groupReady)
            {
                await group.EnsureCreatedAsync();
                _groupReady = true;
            }

            if (_recoverPending)
            {
                await loop.TakeOverAsync(group, frontend.FrontendId, TimeSpan.Zero, cancellationToken);
                _recoverPending = false;
                _nextSweepAt = now + options.SweepInterval;
            }
            else if (now >= _nextSweepAt)
            {
                await loop.TakeOverAsync(group, frontend.FrontendId, options.ClaimIdleTime, cancellationToken);
                await group.RemoveIdleConsumersAsync(options.ClaimIdleTime);
                _nextSweepAt = now + options.SweepInterval;
            }

            await loop.DrainNewAsync(group, frontend.FrontendId, now + options.MaxTickDuration, cancellationToken);
            await meter.MeasureBacklogAsync(group);

            if (_consecutiveFailures > 0)
            {
                DrainerLog.Recovered(logger, frontend.FrontendId, _consecutiveFailures);
            }

            _consecutiveFailures = 0;
            meter.RecordSuccess();
            LastError = null;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            _consecutiveFailures++;
            _recoverPending = true;
            // The group may be what failed: gone with a Redis restarted on an empty volume, a FLUSHALL or an
            // XGROUP DESTROY (NOGROUP). Making sure it exists costs one command and answers BUSYGROUP otherwise; made
            // again, it starts from the stream's first entry, so whatever is still in the stream is drained (again,
            // which changes nothing for what was committed already).
            _groupReady = false;
            if (exception is RedisServerException { Message: var message } && message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                DrainerLog.GroupMissing(logger, frontend.FrontendId, frontend.StreamKey);
                VotingMetrics.RecordGroupRecreated(frontend.FrontendId);
            }

            meter.RecordFailure();
            LastError = exception.Message;
            var delay = options.RetryDelay(_consecutiveFailures);
            _retryAt = timeProvider.GetUtcNow() + delay;
            DrainerLog.DrainFailed(logger, exception, frontend.FrontendId, _consecutiveFailures, delay);
        }
    }
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Voting.Storage.Postgres;

namespace Voting.Grains.Draining;

/// <summary>
/// Drains one front end's vote stream into PostgreSQL on a grain timer. The grain is the Orleans shell: its
/// activation, timer and interface. What a tick does is <see cref="DrainCycle"/>'s, the drain path itself
/// <see cref="DrainLoop"/>'s, the Redis side <see cref="ConsumerGroup"/>'s, the numbers <see cref="DrainMeter"/>'s.
/// </summary>
/// <remarks>
/// Entries are acknowledged only after their commit, and a commit replayed after a failure changes nothing. After a
/// failure, and on every activation, the drainer first takes over and finishes whatever is pending in the group.
/// </remarks>
public sealed class QueueDrainerGrain(
    RedisConnections redisConnections,
    VoteWriter voteWriter,
    IOptions<DrainingOptions> options,
    TimeProvider timeProvider,
    ILogger<QueueDrainerGrain> logger) : Grain, IQueueDrainerGrain
{
    private readonly DrainingOptions _options = options.Value;
    private IGrainTimer? _timer;

    // Set on activation, before any call reaches the grain.
    private DrainMeter _meter = null!;
    private DrainCycle _cycle = null!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _meter = new DrainMeter(timeProvider);
        var loop = new DrainLoop(new VoteJudge(GrainFactory, _options.ShardCount), voteWriter, _meter, _options, timeProvider, logger);
        // A consumer name per activation: entries pending under an older name belong to an activation that is gone.
        var consumer = $"{RuntimeIdentity}/{Guid.NewGuid():N}";
        _cycle = new DrainCycle(consumer, redisConnections, loop, _meter, _options, timeProvider, logger);
        VotingMetrics.TrackDrainer(this.GetPrimaryKeyString(), _meter.Gauges);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        VotingMetrics.ForgetDrainer(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public Task EnsureRunningAsync(FrontendInfo frontend)
    {
        if (!string.Equals(frontend.FrontendId, this.GetPrimaryKeyString(), StringComparison.Ordinal))
        {
            throw new ArgumentException($"Drainer '{this.GetPrimaryKeyString()}' cannot drain front end '{frontend.FrontendId}'.", nameof(frontend));
        }

        _cycle.Follow(frontend);
        _timer ??= this.RegisterGrainTimer(_cycle.TickAsync, new GrainTimerCreationOptions(TimeSpan.Zero, _options.PollInterval)
        {
            // Status calls and re-registrations are answered while a tick waits on Redis or PostgreSQL.
            Interleave = true,
            KeepAlive = true,
        });
        return Task.CompletedTask;
    }

    public async Task<DrainerRetirement> RetireAsync(FrontendInfo frontend, bool force)
    {
        var retirement = await RetirementDecision.DecideAsync(redisConnections, frontend, force);
        if (retirement.Stopped)
        {
            _timer?.Dispose();
            _timer = null;
            _cycle.Stop();
            DrainerLog.Retired(logger, this.GetPrimaryKeyString(), retirement.Waiting, force);
            DeactivateOnIdle();
        }

        return retirement;
    }

    public async Task<DrainerBacklog> ReadBacklogAsync(FrontendInfo frontend)
    {
        try
        {
            var backlog = await StreamBacklog.ReadAsync(await redisConnections.GetDatabaseAsync(frontend.RedisEndpoint), frontend.StreamKey);
            return new DrainerBacklog(frontend.FrontendId, backlog.Waiting, backlog.Pending, null);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            return new DrainerBacklog(frontend.FrontendId, -1, -1, e.Message);
        }
    }

    public Task<DrainerStatus> GetStatusAsync() =>
        Task.FromResult(_meter.Status(this.GetPrimaryKeyString(), RuntimeIdentity, _cycle.LastError));
}

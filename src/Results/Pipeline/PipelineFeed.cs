using Microsoft.Extensions.Options;
using Voting.Clustering;
using Voting.Grains;
using Voting.Results.Tallies;

namespace Voting.Results.Pipeline;

/// <summary>One front end's queue as its drainer last measured it.</summary>
public sealed record FrontendPipeline(
    string FrontendId,
    long Waiting,
    long Pending,
    double OldestWaitSeconds,
    double DrainRate,
    string DrainedBy,
    DateTimeOffset? LastCommitAt,
    string? LastError);

/// <summary>Every front end's backlog and drain rate, or why they cannot be read.</summary>
public sealed record PipelineSnapshot(IReadOnlyList<FrontendPipeline> Frontends, DateTimeOffset ReadAt, string? Problem);

/// <summary>Asks the cluster's registry and drainers how far behind each front end's stream is, every few seconds.</summary>
public sealed partial class PipelineFeed(
    ClusterClientConnection cluster,
    IOptions<ResultsOptions> options,
    TimeProvider timeProvider,
    ILogger<PipelineFeed> logger) : BackgroundService
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    public LatestValue<PipelineSnapshot> Status { get; } = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PipelineRefreshInterval, timeProvider);
        do
        {
            Status.Publish(await ReadAsync());
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task<PipelineSnapshot> ReadAsync()
    {
        var now = timeProvider.GetUtcNow();
        if (cluster.Client is not { } grains)
        {
            return new PipelineSnapshot([], now, "Not connected to the Orleans cluster.");
        }

        try
        {
            var frontends = await grains.GetFrontendRegistry().GetFrontendsAsync().WaitAsync(CallTimeout);
            var statuses = await Task.WhenAll(frontends.Select(f => grains.GetGrain<IQueueDrainerGrain>(f.FrontendId).GetStatusAsync())).WaitAsync(CallTimeout);
            return new PipelineSnapshot(statuses.Select(s => new FrontendPipeline(
                s.FrontendId,
                s.Backlog,
                s.Pending,
                s.OldestWaitingSince is { } since ? Math.Round(Math.Max(0, (now - since).TotalSeconds), 1) : 0,
                Math.Round(s.DrainRate, 1),
                s.Silo,
                s.LastCommitAt,
                s.LastError)).ToArray(), now, null);
        }
        catch (Exception exception) when (exception is OrleansException or TimeoutException)
        {
            LogReadFailed(logger, exception.Message);
            return new PipelineSnapshot([], now, "The drainers cannot be asked right now: " + exception.Message);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "The pipeline status cannot be read: {Error}")]
    private static partial void LogReadFailed(ILogger logger, string error);
}

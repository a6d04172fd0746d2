using System.Diagnostics.Metrics;
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
public sealed record PipelineSnapshot(IReadOnlyList<FrontendPipeline> Frontends, DateTimeOffset ReadAt, string? Problem)
{
    /// <summary>
    /// What the public results page shows: the numbers, without the silo addresses, the drainers' errors or why the
    /// cluster cannot be asked (all of which name internals); the operator reads those from <c>/api/pipeline</c>.
    /// </summary>
    public PublicPipelineSnapshot ForPublic() => new(
        [.. Frontends.Select(f => new PublicFrontendPipeline(f.FrontendId, f.Waiting, f.OldestWaitSeconds, f.DrainRate, f.LastError is not null))],
        ReadAt,
        Problem is null);
}

/// <summary>One front end's queue as the public page shows it.</summary>
/// <param name="FrontendId">The front end.</param>
/// <param name="Waiting">Votes waiting in its stream.</param>
/// <param name="OldestWaitSeconds">How long the oldest of them has waited.</param>
/// <param name="DrainRate">Votes drained per second.</param>
/// <param name="Failing">Whether its drainer's latest attempt failed (the error itself is the operator's).</param>
public sealed record PublicFrontendPipeline(string FrontendId, long Waiting, double OldestWaitSeconds, double DrainRate, bool Failing);

/// <summary>Every front end's queue as the public page shows it.</summary>
/// <param name="Frontends">The front ends' queues.</param>
/// <param name="ReadAt">When they were asked.</param>
/// <param name="Available">False while the cluster cannot be asked.</param>
public sealed record PublicPipelineSnapshot(IReadOnlyList<PublicFrontendPipeline> Frontends, DateTimeOffset ReadAt, bool Available);

/// <summary>
/// Asks the cluster's registry and drainers how far behind each front end's stream is, every
/// <c>Results:PipelineRefreshInterval</c> (a failed read again within a second): the one place the results app calls
/// those grains. The page's event stream and <c>/api/pipeline</c> serve its latest snapshot, so readers never add calls.
/// </summary>
public sealed partial class PipelineFeed(
    ClusterClientConnection cluster,
    IOptions<ResultsOptions> options,
    TimeProvider timeProvider,
    IMeterFactory meters,
    ILogger<PipelineFeed> logger) : BackgroundService
{
    public const string MeterName = "Voting.Results";
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);
    private readonly Counter<long> _reads = meters.Create(MeterName).CreateCounter<long>(
        "voting.results.pipeline_reads", unit: "{read}", description: "Times the results app asked the cluster's registry and drainers for the pipeline status.");

    public LatestValue<PipelineSnapshot> Status { get; } = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var snapshot = await ReadAsync();
            Status.Publish(snapshot);
            var interval = options.Value.PipelineRefreshInterval;
            await Task.Delay(snapshot.Problem is null || interval < RetryInterval ? interval : RetryInterval, timeProvider, stoppingToken)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<PipelineSnapshot> ReadAsync()
    {
        var now = timeProvider.GetUtcNow();
        if (cluster.Client is not { } grains)
        {
            return new PipelineSnapshot([], now, "Not connected to the Orleans cluster.");
        }

        _reads.Add(1);
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

using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Voting;
using Voting.Storage.Postgres;

namespace Voting.Results.Tallies;

/// <summary>
/// Reads the tallies once per refresh interval for every live page at once, and publishes them when the counts
/// changed. A thousand open pages cost PostgreSQL one small query a second.
/// </summary>
public sealed partial class ResultsFeed(
    TallyReader tallies,
    BallotOptions ballot,
    IOptions<ResultsOptions> options,
    TimeProvider timeProvider,
    ILogger<ResultsFeed> logger) : BackgroundService
{
    public LatestValue<ResultsSnapshot> Counts { get; } = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, timeProvider);
        var failing = false;
        do
        {
            try
            {
                var snapshot = ResultsSnapshot.Create(ballot, await tallies.ReadAsync(stoppingToken), timeProvider.GetUtcNow());
                if (!snapshot.SameCounts(Counts.Latest))
                {
                    Counts.Publish(snapshot);
                }

                failing = false;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                if (!failing)
                {
                    LogReadFailed(logger, exception.Message);
                }

                failing = true;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(1, LogLevel.Warning, "The live results cannot read the tallies: {Error}; the page shows the last counts read")]
    private static partial void LogReadFailed(ILogger logger, string error);
}

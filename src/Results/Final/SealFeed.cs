using Microsoft.Extensions.Options;
using Voting.Results.Tallies;
using Voting.Sealing.Postgres;
using Voting.ServiceDefaults.Voting;

namespace Voting.Results.Final;

/// <summary>
/// The poll's seal, read once from PostgreSQL (as the results role) and kept in memory for the final count's files and
/// receipts' proofs. Until the poll is sealed, it asks whether it is every <c>Results:SealRefreshInterval</c> (one
/// indexed row; nothing more); once it is, it loads the seal in the background — ballots, tree and the kept root
/// checked — and stops asking: a seal never changes. It is loaded during an embargo too, so that the release publishes
/// it at once rather than after the load (about 40 s and 580 MiB for ten million ballots, docs/PERFORMANCE.md); what is served, and when, is
/// <see cref="FinalEndpoints"/>' to decide.
/// </summary>
public sealed partial class SealFeed(
    SealReader seals,
    IOptions<PollOptions> poll,
    IOptions<ResultsOptions> options,
    BallotOptions ballot,
    TimeProvider timeProvider,
    ILogger<SealFeed> logger) : BackgroundService
{
    private volatile PublishedSeal? _published;
    private volatile SealFeedState _state = SealFeedState.NotSealed;

    /// <summary>The seal, once loaded.</summary>
    public PublishedSeal? Published => _published;

    /// <summary>Where the feed is: not sealed (as last asked), loading, loaded, or unreadable.</summary>
    public SealFeedState State => _state;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pollId = poll.Value.Id;
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await seals.ExistsAsync(pollId, stoppingToken))
                {
                    _state = SealFeedState.Loading;
                    LogLoading(logger, pollId);
                    var started = timeProvider.GetTimestamp();
                    if (await seals.FindAsync(pollId, stoppingToken) is { } seal)
                    {
                        _published = PublishedSeal.Of(seal, ballot);
                        _state = SealFeedState.Loaded;
                        LogLoaded(logger, pollId, seal.Ballots.Count, seal.Manifest.MerkleRoot, timeProvider.GetElapsedTime(started).TotalSeconds);
                        return;
                    }
                }

                _state = SealFeedState.NotSealed;
                failing = false;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                _state = SealFeedState.Unreadable;
                if (!failing)
                {
                    LogReadFailed(logger, pollId, exception.Message);
                }

                failing = true;
            }

            await Task.Delay(options.Value.SealRefreshInterval, timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Poll '{PollId}' is sealed: loading its seal")]
    private static partial void LogLoading(ILogger logger, string pollId);

    [LoggerMessage(2, LogLevel.Information, "Loaded the seal of poll '{PollId}': {Ballots} ballots, root {MerkleRoot}, in {Seconds:F1} s")]
    private static partial void LogLoaded(ILogger logger, string pollId, int ballots, string merkleRoot, double seconds);

    [LoggerMessage(3, LogLevel.Warning, "The seal of poll '{PollId}' cannot be read: {Error}; asking again")]
    private static partial void LogReadFailed(ILogger logger, string pollId, string error);
}

/// <summary>What the <see cref="SealFeed"/> knows of the poll's seal.</summary>
public enum SealFeedState
{
    NotSealed,
    Loading,
    Loaded,
    Unreadable,
}

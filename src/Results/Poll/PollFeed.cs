using Microsoft.Extensions.Options;
using Voting.Clustering;
using Voting.Grains;
using Voting.Results.Tallies;
using Voting.ServiceDefaults.Voting;

namespace Voting.Results.Poll;

/// <summary>Whether the public may see the counts now, and if not, when they will be announced (null: not known yet).</summary>
public sealed record Embargo(bool Withheld, DateTimeOffset? ReleaseAt)
{
    public string Sentence => ReleaseAt is { } at
        ? $"The results are under embargo: they will be announced at {at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture)}."
        : "The results are under embargo: they will be announced when the poll's organisers release them.";
}

/// <summary>
/// The poll's schedule as the results app last read it from the poll grain (every <c>Poll:RefreshInterval</c>, in the
/// background; never per request), and from it whether the counts are embargoed. Until the grain has been heard the
/// configured schedule holds, so a configured embargo holds from the start.
/// </summary>
public sealed partial class PollFeed(
    ClusterClientConnection cluster,
    IOptions<PollOptions> options,
    TimeProvider timeProvider,
    ILogger<PollFeed> logger) : BackgroundService
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private volatile PollSchedule? _heard;

    /// <summary>The embargo as it changes: every page's event stream waits on it.</summary>
    public LatestValue<Embargo> Embargoes { get; } = new();

    /// <summary>The embargo now, from the schedule last read.</summary>
    public Embargo Current()
    {
        var poll = options.Value;
        var schedule = _heard ?? new PollSchedule(poll.OpensAtTime, poll.ClosesAtTime, poll.Embargo, poll.ReleaseAtTime, poll.CloseNotice);
        return new Embargo(schedule.EmbargoedAt(timeProvider.GetUtcNow()), schedule.ReleaseAt);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (cluster.Client is { } grains)
            {
                try
                {
                    _heard = (await grains.GetPoll().GetStatusAsync().WaitAsync(CallTimeout, stoppingToken)).Schedule;
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

            // Published when it changes, also when the release time passes without a new read.
            if (Current() is var embargo && embargo != Embargoes.Latest)
            {
                Embargoes.Publish(embargo);
            }

            await Task.Delay(options.Value.RefreshInterval, timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "The poll's schedule cannot be read: {Error}; the last one read (or the configured one) holds")]
    private static partial void LogReadFailed(ILogger logger, string error);
}

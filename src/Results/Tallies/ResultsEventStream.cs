using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Voting.Results.Pipeline;
using Voting.Results.Poll;

namespace Voting.Results.Tallies;

/// <summary>
/// The event stream behind the live page: <c>results</c> and <c>pipeline</c> events (the pipeline's public view), or,
/// while the results are under embargo, only <c>embargo</c> events saying when they will be announced.
/// </summary>
internal static class ResultsEventStream
{
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The current counts and pipeline status, then every change of either; the same counts again now and then keep
    /// proxies from closing the stream. Under embargo neither is sent (the pipeline's numbers add up to the counts);
    /// on release, the counts and the pipeline follow at once.
    /// </summary>
    public static async IAsyncEnumerable<SseItem<string>> ReadAsync(
        ResultsFeed results, PipelineFeed pipeline, PollFeed poll, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var nextCounts = results.Counts.NextAsync(cancellationToken);
        var nextPipeline = pipeline.Status.NextAsync(cancellationToken);
        var nextEmbargo = poll.Embargoes.NextAsync(cancellationToken);
        var embargo = poll.Current();
        if (embargo.Withheld)
        {
            yield return Event("embargo", embargo, ResultsJsonContext.Default.Embargo);
        }
        else
        {
            foreach (var item in Everything(results, pipeline))
            {
                yield return item;
            }
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var waited = await Task.WhenAny(nextCounts, nextPipeline, nextEmbargo, Task.Delay(KeepAliveInterval, cancellationToken));
            if (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            if (waited == nextEmbargo)
            {
                nextEmbargo = poll.Embargoes.NextAsync(cancellationToken);
                var now = poll.Current();
                if (now.Withheld)
                {
                    yield return Event("embargo", now, ResultsJsonContext.Default.Embargo);
                }
                else if (embargo.Withheld)
                {
                    // Released: the page shows the counts and the pipeline from now on.
                    yield return Event("embargo", now, ResultsJsonContext.Default.Embargo);
                    foreach (var item in Everything(results, pipeline))
                    {
                        yield return item;
                    }
                }

                embargo = now;
            }
            else if (waited == nextCounts)
            {
                var counts = await nextCounts;
                nextCounts = results.Counts.NextAsync(cancellationToken);
                if (!poll.Current().Withheld)
                {
                    yield return Event("results", counts, ResultsJsonContext.Default.ResultsSnapshot);
                }
            }
            else if (waited == nextPipeline)
            {
                var status = await nextPipeline;
                nextPipeline = pipeline.Status.NextAsync(cancellationToken);
                if (!poll.Current().Withheld)
                {
                    yield return Event("pipeline", status.ForPublic(), ResultsJsonContext.Default.PublicPipelineSnapshot);
                }
            }
            else if (poll.Current() is { Withheld: true } withheld)
            {
                yield return Event("embargo", withheld, ResultsJsonContext.Default.Embargo);
            }
            else if (results.Counts.Latest is { } current)
            {
                yield return Event("results", current, ResultsJsonContext.Default.ResultsSnapshot);
            }
        }
    }

    /// <summary>The latest counts and pipeline status, whichever have been read.</summary>
    private static IEnumerable<SseItem<string>> Everything(ResultsFeed results, PipelineFeed pipeline)
    {
        if (results.Counts.Latest is { } counts)
        {
            yield return Event("results", counts, ResultsJsonContext.Default.ResultsSnapshot);
        }

        if (pipeline.Status.Latest is { } status)
        {
            yield return Event("pipeline", status.ForPublic(), ResultsJsonContext.Default.PublicPipelineSnapshot);
        }
    }

    private static SseItem<string> Event<T>(string type, T value, JsonTypeInfo<T> typeInfo) =>
        new(JsonSerializer.Serialize(value, typeInfo), type);
}

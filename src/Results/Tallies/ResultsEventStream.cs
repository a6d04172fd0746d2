using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Voting.Results.Pipeline;

namespace Voting.Results.Tallies;

/// <summary>The event stream behind the live page: <c>results</c> and <c>pipeline</c> events (the pipeline's public view).</summary>
internal static class ResultsEventStream
{
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The current counts and pipeline status, then every change of either; the same counts again now and then keep
    /// proxies from closing the stream.
    /// </summary>
    public static async IAsyncEnumerable<SseItem<string>> ReadAsync(ResultsFeed results, PipelineFeed pipeline, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var nextCounts = results.Counts.NextAsync(cancellationToken);
        var nextPipeline = pipeline.Status.NextAsync(cancellationToken);
        if (results.Counts.Latest is { } counts)
        {
            yield return Event("results", counts, ResultsJsonContext.Default.ResultsSnapshot);
        }

        if (pipeline.Status.Latest is { } status)
        {
            yield return Event("pipeline", status.ForPublic(), ResultsJsonContext.Default.PublicPipelineSnapshot);
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var waited = await Task.WhenAny(nextCounts, nextPipeline, Task.Delay(KeepAliveInterval, cancellationToken));
            if (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            if (waited == nextCounts)
            {
                yield return Event("results", await nextCounts, ResultsJsonContext.Default.ResultsSnapshot);
                nextCounts = results.Counts.NextAsync(cancellationToken);
            }
            else if (waited == nextPipeline)
            {
                yield return Event("pipeline", (await nextPipeline).ForPublic(), ResultsJsonContext.Default.PublicPipelineSnapshot);
                nextPipeline = pipeline.Status.NextAsync(cancellationToken);
            }
            else if (results.Counts.Latest is { } current)
            {
                yield return Event("results", current, ResultsJsonContext.Default.ResultsSnapshot);
            }
        }
    }

    private static SseItem<string> Event<T>(string type, T value, JsonTypeInfo<T> typeInfo) =>
        new(JsonSerializer.Serialize(value, typeInfo), type);
}

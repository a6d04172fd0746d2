using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Voting.Results.Pipeline;
using Voting.ServiceDefaults.Clustering;
using Voting.ServiceDefaults.Voting;
using Voting.Storage.Postgres;

namespace Voting.Results.Tallies;

/// <summary>
/// The live results page, its script, the JSON API (<c>/api/results</c>, <c>/api/pipeline</c>) and the event stream
/// behind the page (<c>results</c> and <c>pipeline</c> events).
/// </summary>
public static class ResultsEndpoints
{
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    public static IHostApplicationBuilder AddVotingResults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ResultsOptions>()
            .BindConfiguration(ResultsOptions.SectionName)
            .Validate(o => o.RefreshInterval >= TimeSpan.FromMilliseconds(100), "Setting 'Results:RefreshInterval' must be at least 100 ms.")
            .Validate(o => o.PipelineRefreshInterval >= TimeSpan.FromMilliseconds(100), "Setting 'Results:PipelineRefreshInterval' must be at least 100 ms.")
            .ValidateOnStart();
        builder.Services.AddSingleton(BallotOptions.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TallyReader>();
        builder.Services.AddSingleton<ResultsFeed>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ResultsFeed>());
        builder.AddVotingClusterClient();
        builder.Services.AddSingleton<PipelineFeed>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PipelineFeed>());
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ResultsJsonContext.Default));
        builder.Services.AddProblemDetails();
        return builder;
    }

    public static IEndpointRouteBuilder MapResultsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", ShowPageAsync);
        endpoints.MapGet("/results.js", () => TypedResults.Text(ResultsPage.Script, "text/javascript; charset=utf-8"));
        endpoints.MapGet("/api/results", ReadAsync);
        endpoints.MapGet("/api/pipeline", ReadPipelineAsync);
        endpoints.MapGet("/api/results/stream", (ResultsFeed results, PipelineFeed pipeline, CancellationToken cancellationToken) =>
            TypedResults.ServerSentEvents(StreamAsync(results, pipeline, cancellationToken)));
        return endpoints;
    }

    /// <summary>Each front end's waiting votes, the oldest one's wait and the drain rate, asked of the cluster now.</summary>
    private static async Task<Results<Ok<PipelineSnapshot>, ProblemHttpResult>> ReadPipelineAsync(HttpContext context, PipelineFeed pipeline)
    {
        context.Response.Headers.CacheControl = "no-store";
        var snapshot = await pipeline.ReadAsync();
        if (snapshot.Problem is { } problem)
        {
            context.Response.Headers.RetryAfter = "2";
            return TypedResults.Problem(detail: problem, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Ok(snapshot);
    }

    /// <summary>Exact counts, read from <c>tallies</c> for this request.</summary>
    private static async Task<Results<Ok<ResultsSnapshot>, ProblemHttpResult>> ReadAsync(
        HttpContext context, TallyReader tallies, BallotOptions ballot, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            return TypedResults.Ok(ResultsSnapshot.Create(ballot, await tallies.ReadAsync(cancellationToken), timeProvider.GetUtcNow()));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            context.Response.Headers.RetryAfter = "2";
            return TypedResults.Problem(detail: "The results cannot be read right now: PostgreSQL is unreachable.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static async Task<ContentHttpResult> ShowPageAsync(
        HttpContext context, TallyReader tallies, BallotOptions ballot, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            var snapshot = ResultsSnapshot.Create(ballot, await tallies.ReadAsync(cancellationToken), timeProvider.GetUtcNow());
            return TypedResults.Content(ResultsPage.Render(ballot, snapshot), "text/html; charset=utf-8");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            context.Response.Headers.RetryAfter = "2";
            return TypedResults.Content(ResultsPage.Render(ballot, null), "text/html; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>
    /// The current counts and pipeline status, then every change of either; the same counts again now and then keep
    /// proxies from closing the stream.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> StreamAsync(ResultsFeed results, PipelineFeed pipeline, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var nextCounts = results.Counts.NextAsync(cancellationToken);
        var nextPipeline = pipeline.Status.NextAsync(cancellationToken);
        if (results.Counts.Latest is { } counts)
        {
            yield return Event("results", counts, ResultsJsonContext.Default.ResultsSnapshot);
        }

        if (pipeline.Status.Latest is { } status)
        {
            yield return Event("pipeline", status, ResultsJsonContext.Default.PipelineSnapshot);
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
                yield return Event("pipeline", await nextPipeline, ResultsJsonContext.Default.PipelineSnapshot);
                nextPipeline = pipeline.Status.NextAsync(cancellationToken);
            }
            else if (results.Counts.Latest is { } current)
            {
                yield return Event("results", current, ResultsJsonContext.Default.ResultsSnapshot);
            }
        }
    }

    private static SseItem<string> Event<T>(string type, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        new(JsonSerializer.Serialize(value, typeInfo), type);
}

internal static class ResultsPage
{
    public static string Render(BallotOptions ballot, ResultsSnapshot? snapshot)
    {
        var html = new StringBuilder(2048);
        var title = string.Join(" vs ", ballot.All.Select(o => o.Label));
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Results: ")
            .Append(Encode(title)).Append("</title>\n<style>").Append(Style).Append("</style>\n<script src=\"/results.js\" defer></script>\n</head>\n<body>\n<main>\n<h1>")
            .Append(Encode(title)).Append("</h1>\n<div id=\"options\">\n");
        foreach (var option in snapshot?.Options ?? [])
        {
            var percent = option.Percent.ToString("0.0", CultureInfo.InvariantCulture);
            html.Append("<div class=\"option\"><div class=\"row\"><span class=\"label\">").Append(Encode(option.Label))
                .Append("</span><span class=\"count\">").Append(option.Count.ToString("N0", CultureInfo.InvariantCulture))
                .Append(" (").Append(percent).Append("%)</span></div><div class=\"bar\"><div style=\"width:").Append(percent)
                .Append("%\"></div></div></div>\n");
        }

        html.Append("</div>\n<p id=\"total\">").Append(snapshot is null
                ? "The results cannot be read right now."
                : $"{snapshot.Total.ToString("N0", CultureInfo.InvariantCulture)} votes")
            .Append("</p>\n<p id=\"read-at\" class=\"muted\">")
            .Append(snapshot is null ? "" : "Counted at " + snapshot.ReadAt.ToString("u", CultureInfo.InvariantCulture))
            .Append("</p>\n<section id=\"pipeline\">\n<h2>Pipeline</h2>\n<table>\n<thead><tr><th>Front end</th><th>Waiting</th><th>Oldest wait</th><th>Drained/s</th><th>Drained by</th></tr></thead>\n")
            .Append("<tbody id=\"pipeline-rows\"><tr><td colspan=\"5\">Asking the cluster&hellip;</td></tr></tbody>\n</table>\n<p id=\"pipeline-note\" class=\"muted\"></p>\n</section>\n")
            .Append("</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string Encode(string text) => HtmlEncoder.Default.Encode(text);

    private const string Style =
        """
        body{margin:0;font-family:system-ui,sans-serif;background:#f4f4f4;color:#222}
        main{max-width:36rem;margin:8vh auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}
        h1{font-weight:500;text-align:center}
        .option{margin:1.25rem 0}.row{display:flex;justify-content:space-between;font-size:1.25rem}
        .bar{height:1.25rem;background:#eee;border-radius:4px;overflow:hidden;margin-top:.25rem}
        .bar>div{height:100%;background:#1aaaf8;transition:width .5s}
        .option:nth-child(2n) .bar>div{background:#00cbca}
        #total{font-size:1.25rem;text-align:center}.muted{color:#666;font-size:.9rem;text-align:center}
        #pipeline h2{font-size:1rem;font-weight:500;margin-top:2rem}
        table{width:100%;border-collapse:collapse;font-size:.9rem}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eee}
        td.error{color:#b00}
        """;

    public const string Script =
        """
        "use strict";
        const number = new Intl.NumberFormat("en-US");
        function render(results) {
          const container = document.getElementById("options");
          container.replaceChildren(...results.options.map(option => {
            const row = document.createElement("div");
            row.className = "option";
            const head = document.createElement("div");
            head.className = "row";
            const label = document.createElement("span");
            label.className = "label";
            label.textContent = option.label;
            const count = document.createElement("span");
            count.className = "count";
            count.textContent = `${number.format(option.count)} (${option.percent.toFixed(1)}%)`;
            head.append(label, count);
            const bar = document.createElement("div");
            bar.className = "bar";
            const fill = document.createElement("div");
            fill.style.width = `${option.percent}%`;
            bar.append(fill);
            row.append(head, bar);
            return row;
          }));
          document.getElementById("total").textContent = `${number.format(results.total)} votes`;
          document.getElementById("read-at").textContent = `Counted at ${new Date(results.readAt).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z")}`;
        }
        function cell(row, text, className) {
          const td = document.createElement("td");
          td.textContent = text;
          if (className) td.className = className;
          row.append(td);
        }
        function renderPipeline(status) {
          const rows = status.frontends.map(f => {
            const row = document.createElement("tr");
            cell(row, f.frontendId);
            cell(row, number.format(f.waiting));
            cell(row, f.waiting > 0 ? `${f.oldestWaitSeconds.toFixed(1)} s` : "-");
            cell(row, number.format(Math.round(f.drainRate)));
            cell(row, f.lastError ? `${f.drainedBy} (failing: ${f.lastError})` : f.drainedBy, f.lastError ? "error" : "");
            return row;
          });
          if (rows.length === 0) {
            const row = document.createElement("tr");
            cell(row, status.problem ?? "No front end has registered yet.");
            row.firstChild.colSpan = 5;
            rows.push(row);
          }
          document.getElementById("pipeline-rows").replaceChildren(...rows);
          document.getElementById("pipeline-note").textContent = `Asked at ${new Date(status.readAt).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z")}`;
        }
        const events = new EventSource("/api/results/stream");
        events.addEventListener("results", event => render(JSON.parse(event.data)));
        events.addEventListener("pipeline", event => renderPipeline(JSON.parse(event.data)));
        """;
}

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ResultsSnapshot))]
[JsonSerializable(typeof(PipelineSnapshot))]
internal sealed partial class ResultsJsonContext : JsonSerializerContext;

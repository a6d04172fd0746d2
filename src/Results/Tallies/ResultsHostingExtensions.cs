using Microsoft.AspNetCore.StaticFiles;
using Voting.Clustering;
using Voting.Results.Final;
using Voting.Results.Limits;
using Voting.Results.Pipeline;
using Voting.Results.Poll;
using Voting.Sealing.Postgres;
using Voting.ServiceDefaults.Edge;
using Voting.ServiceDefaults.Voting;
using Voting.Storage.Postgres;

namespace Voting.Results.Tallies;

public static class ResultsHostingExtensions
{
    /// <summary>
    /// The results app's services: its settings, the tally reader, the two feeds behind the live page (counts from
    /// PostgreSQL, pipeline status from the cluster, which it joins as a client), the poll's embargo, the poll's seal
    /// (read once it exists, for the final count and receipts' proofs), the page and its static files. The public
    /// reaches it directly, not through the balancer: it is an edge of its own, with Kestrel's limits for one
    /// (<c>Edge:Limits</c>), HTTPS when <c>Edge:Tls</c> names a certificate, and limits per client address, whose
    /// address comes from X-Forwarded-For only from the trusted proxies.
    /// </summary>
    public static IHostApplicationBuilder AddVotingResults(this IHostApplicationBuilder builder)
    {
        builder.AddVotingEdgeLimits();
        builder.AddVotingEdgeTls();
        builder.Services.AddOptions<ResultsOptions>()
            .BindConfiguration(ResultsOptions.SectionName)
            .Validate(o => o.RefreshInterval >= TimeSpan.FromMilliseconds(100), "Setting 'Results:RefreshInterval' must be at least 100 ms.")
            .Validate(o => o.PipelineRefreshInterval >= TimeSpan.FromMilliseconds(100), "Setting 'Results:PipelineRefreshInterval' must be at least 100 ms.")
            .Validate(o => o.SealRefreshInterval >= TimeSpan.FromMilliseconds(100), "Setting 'Results:SealRefreshInterval' must be at least 100 ms.")
            .ValidateOnStart();
        builder.Services.AddSingleton(BallotOptions.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TallyReader>();
        builder.Services.AddSingleton<ResultsFeed>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ResultsFeed>());
        builder.AddVotingClusterClient();
        builder.Services.AddSingleton<PipelineFeed>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PipelineFeed>());
        builder.Services.AddVotingPollOptions();
        builder.Services.AddSingleton<PollFeed>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PollFeed>());
        builder.Services.AddSingleton<SealReader>();
        builder.Services.AddSingleton<SealFeed>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SealFeed>());
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ResultsJsonContext.Default));
        builder.Services.AddProblemDetails();
        builder.AddVotingForwardedHeaders();
        builder.AddResultsLimits();
        builder.Services.AddOutputCache(o => o.AddPolicy(PipelineCachePolicy.Name, new PipelineCachePolicy()));

        builder.Services.AddSingleton(services => ResultsPage.Load(services.GetRequiredService<IWebHostEnvironment>().WebRootFileProvider));
        builder.Services.Configure<StaticFileOptions>(o =>
        {
            // Only the pages' stylesheet and scripts are served as they are; the results page (index.html, final.html)
            // is a template that GET / fills in, the receipt page (receipt.html) GET /receipt serves.
            o.ContentTypeProvider = new FileExtensionContentTypeProvider(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            {
                [".css"] = "text/css; charset=utf-8",
                [".js"] = "text/javascript; charset=utf-8",
            });
            // Revalidated on every load (ETag), so a new version reaches open browsers at once.
            o.OnPrepareResponse = file => file.Context.Response.Headers.CacheControl = "no-cache";
        });
        return builder;
    }
}

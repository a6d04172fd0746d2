using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Configuration;

namespace Voting.ServiceDefaults.Edge;

/// <summary>
/// The client's real address and scheme from <c>X-Forwarded-For</c> / <c>X-Forwarded-Proto</c>, believed only from the
/// proxies <see cref="EdgeOptions.TrustedProxies"/> names (ASP.NET Core's forwarded headers middleware). The balancer
/// and the front ends both use it: the balancer to learn the client's address from a trusted hop before it (a CDN, or
/// the load tool locally) and pass it on; a front end to learn it from the balancer, and key its rate limits on it.
/// </summary>
public static class ForwardedHeadersExtensions
{
    public static IHostApplicationBuilder AddVotingForwardedHeaders(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EdgeOptions>()
            .BindConfiguration(EdgeOptions.SectionName)
            .Validate(o => o.ParseTrustedProxies() is not null,
                SettingsValidation.Invalid("Edge:TrustedProxies", "must list networks in CIDR notation without host bits, e.g. 10.0.9.0/24 or ::1/128."))
            .Validate(o => o.ForwardLimit is >= 1 and <= 10,
                SettingsValidation.Invalid("Edge:ForwardLimit", "must be a whole number from 1 to 10 (trusted proxies in a row that add to X-Forwarded-For)."))
            .ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IOptions<EdgeOptions>>((forwarded, edge) =>
            {
                forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
                forwarded.ForwardLimit = edge.Value.ForwardLimit;
                // Replaced by the configured networks (loopback when none is configured), never left empty: an empty list trusts everyone.
                forwarded.KnownProxies.Clear();
                forwarded.KnownIPNetworks.Clear();
                foreach (var network in edge.Value.ParseTrustedProxies() ?? [])
                {
                    forwarded.KnownIPNetworks.Add(network);
                }
            });
        return builder;
    }

    /// <summary>First in the pipeline, so that everything after it (rate limits, logs, the proxy) sees the client.</summary>
    public static WebApplication UseVotingForwardedHeaders(this WebApplication app)
    {
        app.UseForwardedHeaders();
        return app;
    }
}

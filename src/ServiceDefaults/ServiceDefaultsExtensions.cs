using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Voting.ServiceDefaults.Health;

namespace Voting.ServiceDefaults;

/// <summary>What every Voting.Orleans host shares: logging, health checks and their endpoints.</summary>
public static class ServiceDefaultsExtensions
{
    public static IHostApplicationBuilder AddVotingServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        builder.Services.AddHealthChecks();
        // Stop within a bounded time; whatever is cut short is replayed from the streams.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        return builder;
    }

    public static WebApplication MapVotingDefaultEndpoints(this WebApplication app)
    {
        app.MapVotingHealthEndpoints();
        return app;
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Voting.ServiceDefaults.Health;

namespace Voting.ServiceDefaults;

/// <summary>What every Voting.Orleans host shares: logging, metrics, health checks and their endpoints.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>The meters every host exports: Orleans', the worker tier's own, ASP.NET Core's and the runtime's.</summary>
    private static readonly string[] Meters = ["Microsoft.Orleans", "Voting.Worker", "Voting.Web"];

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

        var metrics = builder.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(Meters)
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        // Also push to an OpenTelemetry collector when one is configured (the standard OTEL_EXPORTER_OTLP_* variables).
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            metrics.WithMetrics(m => m.AddOtlpExporter());
        }

        return builder;
    }

    /// <summary><c>/health/live</c>, <c>/health/ready</c> and <c>/metrics</c> (Prometheus text format).</summary>
    public static WebApplication MapVotingDefaultEndpoints(this WebApplication app)
    {
        app.MapVotingHealthEndpoints();
        app.MapPrometheusScrapingEndpoint();
        return app;
    }
}

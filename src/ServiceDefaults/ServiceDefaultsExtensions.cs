using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Voting.ServiceDefaults.Health;
using Voting.ServiceDefaults.Management;

namespace Voting.ServiceDefaults;

/// <summary>What every Voting.Orleans host shares: logging, metrics, health checks and their endpoints.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>The meters every host exports: Orleans', the worker tier's, front ends', balancer's and results app's own, ASP.NET Core's and the runtime's.</summary>
    private static readonly string[] Meters = ["Microsoft.Orleans", "Voting.Worker", "Voting.Web", "Voting.Balancer", "Voting.Results"];

    /// <summary>Where settings kept as files are read from: a file <c>Section__Key</c> there sets <c>Section:Key</c>.</summary>
    public const string SecretsDirectorySetting = "SecretsDirectory";

    /// <summary>Docker's (and Swarm's) secrets directory, the default <see cref="SecretsDirectorySetting"/>.</summary>
    public const string DefaultSecretsDirectory = "/run/secrets";

    public static IHostApplicationBuilder AddVotingServiceDefaults(this IHostApplicationBuilder builder)
    {
        // Secrets (the voter-cookie key, connection strings with passwords) come as files, never in the environment
        // where `docker service inspect` would show them: a file named Section__Key sets Section:Key, over any other
        // source.
        var secrets = builder.Configuration[SecretsDirectorySetting] ?? DefaultSecretsDirectory;
        if (Directory.Exists(secrets))
        {
            builder.Configuration.AddKeyPerFile(secrets, optional: true);
        }

        // Every host opens a management port, where the operator's surfaces answer with the management token.
        builder.AddVotingManagement();

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

    /// <summary>
    /// <c>/health/live</c> and <c>/health/ready</c> (every port; details on the management port), <c>/metrics</c>
    /// (Prometheus text format, a management surface) and the management sign-in form.
    /// </summary>
    public static WebApplication MapVotingDefaultEndpoints(this WebApplication app)
    {
        app.MapVotingHealthEndpoints();
        app.MapPrometheusScrapingEndpoint().RequireManagement();
        app.MapManagementSignIn();
        return app;
    }
}

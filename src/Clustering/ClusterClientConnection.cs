using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Voting.Clustering;

/// <summary>
/// An Orleans client that connects in the background and keeps trying until the cluster is there. A host that only
/// reads from the cluster (the results app's pipeline status) must not wait for the cluster to start serving,
/// which a client registered with <c>UseOrleansClient</c> would make it do.
/// </summary>
public sealed partial class ClusterClientConnection(IConfiguration configuration, ILoggerFactory loggers, TimeProvider timeProvider)
    : BackgroundService, IHealthCheck
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(15);
    private readonly ILogger _logger = loggers.CreateLogger<ClusterClientConnection>();
    private IHost? _host;
    private volatile IClusterClient? _client;

    /// <summary>The connected client, or null while the cluster cannot be reached.</summary>
    public IClusterClient? Client => _client;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = FirstRetryDelay;
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Services.AddSingleton(loggers);
            builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
            builder.UseOrleansClient(client => client.UseVotingCluster(configuration));
            var host = builder.Build();
            try
            {
                await host.StartAsync(stoppingToken);
                _host = host;
                _client = host.Services.GetRequiredService<IClusterClient>();
                LogConnected(_logger, attempt);
                return;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                host.Dispose();
                if (attempt == 1 || attempt % 10 == 0)
                {
                    LogNotConnected(_logger, attempt, exception.Message, delay);
                }

                await Task.Delay(delay, timeProvider, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetryDelay.Ticks));
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_host is { } host)
        {
            _client = null;
            await host.StopAsync(cancellationToken);
            host.Dispose();
        }
    }

    /// <summary>Degraded, not unhealthy, while disconnected: the host's own work does not depend on the cluster.</summary>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_client is null
            ? HealthCheckResult.Degraded("Not connected to the Orleans cluster (yet); pipeline status is unavailable.")
            : HealthCheckResult.Healthy("Connected to the Orleans cluster"));

    [LoggerMessage(1, LogLevel.Information, "Connected to the Orleans cluster (attempt {Attempt})")]
    private static partial void LogConnected(ILogger logger, int attempt);

    [LoggerMessage(2, LogLevel.Warning, "Cannot connect to the Orleans cluster yet (attempt {Attempt}): {Error}; retrying in {Delay}")]
    private static partial void LogNotConnected(ILogger logger, int attempt, string error, TimeSpan delay);
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Voting.Storage.Postgres;

namespace Voting.ServiceDefaults.Postgres;

/// <summary>
/// Creates or migrates the votes schema at start-up, retrying while PostgreSQL is unreachable (the process stays up
/// and reports not ready meanwhile, instead of crashing in a restart loop).
/// </summary>
public sealed partial class VotingSchemaInitializer(NpgsqlDataSource dataSource, ILogger<VotingSchemaInitializer> logger)
    : BackgroundService, IHealthCheck
{
    private volatile string? _lastError = "not applied yet";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var applied = await VotingSchema.EnsureAsync(dataSource, stoppingToken);
                LogSchemaReady(logger, applied);
                _lastError = null;
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                _lastError = exception.Message;
                LogSchemaFailed(logger, exception.Message, delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_lastError is null ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("Schema: " + _lastError));

    [LoggerMessage(1, LogLevel.Information, "Votes schema is ready ({Applied} migrations applied now)")]
    private static partial void LogSchemaReady(ILogger logger, int applied);

    [LoggerMessage(2, LogLevel.Warning, "Votes schema could not be applied yet ({Error}); retrying in {Delay}")]
    private static partial void LogSchemaFailed(ILogger logger, string error, TimeSpan delay);
}

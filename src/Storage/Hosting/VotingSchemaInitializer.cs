using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Voting.Storage.Postgres;

namespace Voting.Storage.Hosting;

/// <summary>
/// Creates or migrates the votes schema at start-up — as the schema owner, with
/// <see cref="PostgresOptions.MigrationConnectionString"/> — or, without it, waits until the owner did; retrying while
/// PostgreSQL is unreachable (the process stays up and reports not ready meanwhile, instead of crashing in a restart
/// loop).
/// </summary>
public sealed partial class VotingSchemaInitializer(NpgsqlDataSource dataSource, IOptions<PostgresOptions> options, ILogger<VotingSchemaInitializer> logger)
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
                await using var migrator = string.IsNullOrWhiteSpace(options.Value.MigrationConnectionString)
                    ? null
                    : NpgsqlDataSource.Create(PostgresConnectionDefaults.Apply(options.Value.MigrationConnectionString));
                var applied = await VotingSchema.EnsureAsync(dataSource, stoppingToken, migrator);
                LogSchemaReady(logger, applied);
                await WarnIfCommitsAreNotDurableAsync(stoppingToken);
                _lastError = null;
                return;
            }
            catch (Exception exception) when (SchemaMigrator.IsWaitingForTheOwner(exception))
            {
                _lastError = "waiting for the schema owner (a worker, with Postgres:MigrationConnectionString) to migrate: " + exception.Message;
                LogWaitingForOwner(logger, exception.Message, delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
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

    /// <summary>
    /// Drainers acknowledge a batch in Redis once PostgreSQL reported its commit. With <c>synchronous_commit = off</c>
    /// PostgreSQL reports a commit before its WAL is written, and a crash right after loses votes that are already
    /// acknowledged and gone from Redis.
    /// </summary>
    private async Task WarnIfCommitsAreNotDurableAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT current_setting('synchronous_commit')");
        if (await command.ExecuteScalarAsync(cancellationToken) is "off")
        {
            LogCommitsNotDurable(logger);
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_lastError is null ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("Schema: " + _lastError));

    [LoggerMessage(1, LogLevel.Information, "Votes schema is ready ({Applied} migrations applied now)")]
    private static partial void LogSchemaReady(ILogger logger, int applied);

    [LoggerMessage(2, LogLevel.Warning, "Votes schema could not be applied yet ({Error}); retrying in {Delay}")]
    private static partial void LogSchemaFailed(ILogger logger, string error, TimeSpan delay);

    [LoggerMessage(4, LogLevel.Information, "Votes schema is not complete and this process may not migrate it ({Error}); waiting for the schema owner, again in {Delay}")]
    private static partial void LogWaitingForOwner(ILogger logger, string error, TimeSpan delay);

    [LoggerMessage(3, LogLevel.Critical, "PostgreSQL runs with synchronous_commit = off: a PostgreSQL crash can lose votes that were committed and acknowledged. Set it to on (the default).")]
    private static partial void LogCommitsNotDurable(ILogger logger);
}

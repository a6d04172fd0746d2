using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Voting.Storage.Postgres;

namespace Voting.Clustering.AdoNet;

/// <summary>The databases whose Orleans ADO.NET schema a silo ensures at start-up.</summary>
public sealed class OrleansAdoNetSchemaOptions
{
    public HashSet<string> ConnectionStrings { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The schema owner's connection, which applies missing scripts (<c>Clustering:MigrationConnectionString</c>);
    /// none: each connection string's own role applies them, or, when it may not, the silo waits for the owner.
    /// </summary>
    public string? MigrationConnectionString { get; set; }
}

/// <summary>
/// Applies <see cref="OrleansAdoNetSchema"/> in the silo's first lifecycle stage, before the membership table, grain
/// storage and reminder providers load their queries. While PostgreSQL is unreachable (or still starting) it retries
/// with a growing delay instead of failing the silo; a script error is not retried.
/// </summary>
internal sealed partial class OrleansAdoNetSchemaInitializer(
    IOptions<OrleansAdoNetSchemaOptions> options, ILogger<OrleansAdoNetSchemaInitializer> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(5);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(OrleansAdoNetSchemaInitializer), ServiceLifecycleStage.First, EnsureAllAsync);

    private async Task EnsureAllAsync(CancellationToken cancellationToken)
    {
        foreach (var connectionString in options.Value.ConnectionStrings)
        {
            await EnsureAsync(connectionString, cancellationToken);
        }
    }

    private async Task EnsureAsync(string connectionString, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var database = $"{builder.Host}:{builder.Port}/{builder.Database}";
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var migrator = string.IsNullOrWhiteSpace(options.Value.MigrationConnectionString)
            ? null
            : NpgsqlDataSource.Create(PostgresConnectionDefaults.Apply(options.Value.MigrationConnectionString));
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                var applied = await OrleansAdoNetSchema.EnsureAsync(dataSource, cancellationToken, migrator);
                LogSchemaReady(logger, database, applied);
                return;
            }
            catch (Exception exception) when (SchemaMigrator.IsWaitingForTheOwner(exception) && !cancellationToken.IsCancellationRequested)
            {
                // This silo's own role may create nothing: a worker silo, with the owner's connection, migrates.
                LogWaitingForOwner(logger, database, exception.Message, delay);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetryDelay.Ticks));
            }
            catch (Exception exception) when (exception is NpgsqlException { IsTransient: true } or TimeoutException
                                              && !cancellationToken.IsCancellationRequested)
            {
                LogSchemaRetry(logger, database, exception.Message, delay);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetryDelay.Ticks));
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Orleans ADO.NET schema is ready in {Database} ({Applied} migrations applied now)")]
    private static partial void LogSchemaReady(ILogger logger, string database, int applied);

    [LoggerMessage(3, LogLevel.Information, "Orleans ADO.NET schema in {Database} is not complete and this silo may not migrate it ({Error}); waiting for the schema owner, again in {Delay}")]
    private static partial void LogWaitingForOwner(ILogger logger, string database, string error, TimeSpan delay);

    [LoggerMessage(2, LogLevel.Warning, "Orleans ADO.NET schema could not be applied to {Database} yet ({Error}); retrying in {Delay}")]
    private static partial void LogSchemaRetry(ILogger logger, string database, string error, TimeSpan delay);
}

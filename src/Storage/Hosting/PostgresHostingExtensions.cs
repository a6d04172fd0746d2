using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Voting.ServiceDefaults.Configuration;
using Voting.ServiceDefaults.Health;
using Voting.Storage.Postgres;

namespace Voting.Storage.Hosting;

public static class PostgresHostingExtensions
{
    /// <summary>
    /// Registers the votes database's <see cref="NpgsqlDataSource"/> and its readiness check, and creates or migrates
    /// the schema at start-up.
    /// </summary>
    public static IHostApplicationBuilder AddVotingPostgres(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PostgresOptions>()
            .BindConfiguration(PostgresOptions.SectionName)
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString), SettingsValidation.Missing("Postgres:ConnectionString"))
            .Validate(o => IsParsable(o.ConnectionString), SettingsValidation.Invalid("Postgres:ConnectionString", "is not a valid Npgsql connection string."))
            .Validate(o => string.IsNullOrWhiteSpace(o.MigrationConnectionString) || IsParsable(o.MigrationConnectionString),
                SettingsValidation.Invalid("Postgres:MigrationConnectionString", "is not a valid Npgsql connection string."))
            .ValidateOnStart();

        builder.Services.AddSingleton(services =>
        {
            var options = services.GetRequiredService<IOptions<PostgresOptions>>().Value;
            var connection = new NpgsqlConnectionStringBuilder(PostgresConnectionDefaults.Apply(options.ConnectionString));
            connection.ApplicationName ??= builder.Environment.ApplicationName;
            return NpgsqlDataSource.Create(connection);
        });

        builder.Services.AddSingleton<VotingSchemaInitializer>();
        builder.Services.AddHostedService(services => services.GetRequiredService<VotingSchemaInitializer>());
        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres", tags: [HealthEndpoints.ReadyTag], timeout: HealthEndpoints.CheckTimeout)
            .AddCheck<VotingSchemaInitializer>("schema", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }

    private static bool IsParsable(string connectionString)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

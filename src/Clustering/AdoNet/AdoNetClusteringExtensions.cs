using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Voting.Clustering.AdoNet;

/// <summary>
/// Orleans' ADO.NET providers on PostgreSQL (invariant <c>Npgsql</c>), each given an Npgsql connection string. The
/// silo-side methods also make the silo create or migrate the schema (<see cref="OrleansAdoNetSchema"/>) at the very
/// start of its lifecycle, before any provider reads its queries.
/// </summary>
public static class AdoNetClusteringExtensions
{
    /// <summary>The ADO.NET invariant name of Npgsql, which Orleans resolves without registration.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>Keeps the membership table in PostgreSQL.</summary>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder silo, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        silo.AddOrleansAdoNetSchema(connectionString);
        return silo.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
    }

    /// <summary>
    /// Finds the cluster's gateways in the PostgreSQL membership table. A client only reads: some silo must have
    /// created the schema (a client started first fails to connect, and may retry).
    /// </summary>
    public static IClientBuilder UsePostgresClustering(this IClientBuilder client, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return client.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
    }

    /// <summary>
    /// Adds a grain storage provider named <paramref name="name"/> that keeps grain state in PostgreSQL.
    /// <paramref name="deleteStateOnClear"/> chooses what clearing a state does: false (Orleans' default) keeps the
    /// row with no payload and a new version; true deletes the row.
    /// </summary>
    public static ISiloBuilder AddPostgresGrainStorage(this ISiloBuilder silo, string name, string connectionString, bool deleteStateOnClear = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        silo.AddOrleansAdoNetSchema(connectionString);
        return silo.AddAdoNetGrainStorage(name, options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
            options.DeleteStateOnClear = deleteStateOnClear;
        });
    }

    /// <summary>Keeps the reminder table in PostgreSQL (and enables reminders on this silo).</summary>
    public static ISiloBuilder UsePostgresReminderService(this ISiloBuilder silo, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        silo.AddOrleansAdoNetSchema(connectionString);
        return silo.UseAdoNetReminderService(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
    }

    /// <summary>
    /// Makes the silo apply <see cref="OrleansAdoNetSchema"/> to the database at <paramref name="connectionString"/>
    /// in the first stage of its lifecycle. Calling it again (for instance once per provider) adds nothing for a
    /// connection string already listed.
    /// </summary>
    public static ISiloBuilder AddOrleansAdoNetSchema(this ISiloBuilder silo, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        silo.Services.Configure<OrleansAdoNetSchemaOptions>(options => options.ConnectionStrings.Add(connectionString));
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, OrleansAdoNetSchemaInitializer>());
        return silo;
    }
}

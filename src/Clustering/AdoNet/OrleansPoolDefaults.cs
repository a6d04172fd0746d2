using System.Data.Common;
using Voting.Storage.Postgres;

namespace Voting.Clustering.AdoNet;

/// <summary>
/// Orleans' reminder service reads the ring's ranges all at once when silos join, which grows a connection pool
/// to dozens of connections per silo that then sit idle for minutes; a few servers' worth exhaust PostgreSQL's
/// <c>max_connections</c>. Unless the connection string says otherwise, Orleans gets a small pool whose idle
/// connections close within a minute — and, like every connection string of the applications', no GSS session
/// encryption (<see cref="PostgresConnectionDefaults"/>).
/// </summary>
internal static class OrleansPoolDefaults
{
    public static string Apply(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = PostgresConnectionDefaults.Apply(connectionString) };
        string[] maxPool = ["Maximum Pool Size", "Max Pool Size", "MaxPoolSize"];
        string[] idle = ["Connection Idle Lifetime", "ConnectionIdleLifetime"];
        if (!maxPool.Any(builder.ContainsKey))
        {
            builder["Maximum Pool Size"] = 8;
        }

        if (!idle.Any(builder.ContainsKey))
        {
            builder["Connection Idle Lifetime"] = 60;
        }

        return builder.ConnectionString;
    }
}

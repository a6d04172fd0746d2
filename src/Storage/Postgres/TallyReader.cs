using Npgsql;

namespace Voting.Storage.Postgres;

/// <summary>Reads the exact counts per option from <c>tallies</c> (a handful of rows, never a scan of <c>votes</c>).</summary>
public sealed class TallyReader(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyDictionary<string, long>> ReadAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT option, sum(count)::bigint FROM tallies GROUP BY option");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }
}

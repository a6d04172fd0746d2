using Npgsql;

namespace Voting.Storage.Postgres;

/// <summary>Reads the exact counts per option from <c>tallies</c> (a handful of rows, never a scan of <c>votes</c>).</summary>
/// <remarks>
/// Concurrent callers share reads (<see cref="CoalescedRead{T}"/>): however many pages ask at once, PostgreSQL answers
/// at most one query at a time, and every caller still gets counts read after it asked.
/// </remarks>
public sealed class TallyReader
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly CoalescedRead<IReadOnlyDictionary<string, long>> _read;

    public TallyReader(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
        _read = new CoalescedRead<IReadOnlyDictionary<string, long>>(QueryAsync);
    }

    public Task<IReadOnlyDictionary<string, long>> ReadAsync(CancellationToken cancellationToken) => _read.ReadAsync(cancellationToken);

    private async Task<IReadOnlyDictionary<string, long>> QueryAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT option, sum(count)::bigint FROM tallies GROUP BY option");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }
}

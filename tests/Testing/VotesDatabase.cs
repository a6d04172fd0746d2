using Npgsql;

namespace Voting.Testing;

/// <summary>A voter's row in <c>votes</c>.</summary>
public sealed record StoredVote(Guid VoterId, string Option, Guid VoteId, string FrontendId);

/// <summary>The forensic columns of a voter's row in <c>votes</c>.</summary>
public sealed record StoredForensics(long? AddressHash, long? UserAgentHash, DateTime? IdentityIssuedAt);

/// <summary>Reads what the tests assert on from the votes database.</summary>
public static class VotesDatabase
{
    public static async Task<Dictionary<Guid, StoredVote>> ReadVotesAsync(this NpgsqlDataSource database, IEnumerable<Guid> voterIds)
    {
        await using var command = database.CreateCommand("SELECT voter_id, option, vote_id, frontend_id FROM votes WHERE voter_id = ANY(@voters)");
        command.Parameters.AddWithValue("voters", voterIds.ToArray());
        await using var reader = await command.ExecuteReaderAsync();
        var votes = new Dictionary<Guid, StoredVote>();
        while (await reader.ReadAsync())
        {
            votes[reader.GetGuid(0)] = new StoredVote(reader.GetGuid(0), reader.GetString(1), reader.GetGuid(2), reader.GetString(3));
        }

        return votes;
    }

    public static async Task<Dictionary<Guid, StoredForensics>> ReadForensicsAsync(this NpgsqlDataSource database, IEnumerable<Guid> voterIds)
    {
        await using var command = database.CreateCommand(
            "SELECT voter_id, address_hash, user_agent_hash, identity_issued_at FROM votes WHERE voter_id = ANY(@voters)");
        command.Parameters.AddWithValue("voters", voterIds.ToArray());
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<Guid, StoredForensics>();
        while (await reader.ReadAsync())
        {
            rows[reader.GetGuid(0)] = new StoredForensics(
                reader.IsDBNull(1) ? null : reader.GetInt64(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetDateTime(3));
        }

        return rows;
    }

    /// <summary>
    /// The tallies per option and the counts computed from the rows, read by one statement so that both come from the
    /// same snapshot even while drainers commit.
    /// </summary>
    public static async Task<(Dictionary<string, long> Tallies, Dictionary<string, long> Counted)> ReadTalliesAndCountsAsync(this NpgsqlDataSource database)
    {
        await using var command = database.CreateCommand(
            """
            SELECT 't', option, sum(count)::bigint FROM tallies GROUP BY option HAVING sum(count) <> 0
            UNION ALL
            SELECT 'c', option, count(*) FROM votes GROUP BY option
            """);
        await using var reader = await command.ExecuteReaderAsync();
        var tallies = new Dictionary<string, long>();
        var counted = new Dictionary<string, long>();
        while (await reader.ReadAsync())
        {
            (reader.GetString(0) == "t" ? tallies : counted)[reader.GetString(1)] = reader.GetInt64(2);
        }

        return (tallies, counted);
    }

    /// <summary>The tallies per option, as the results app reads them.</summary>
    public static async Task<Dictionary<string, long>> ReadTalliesAsync(this NpgsqlDataSource database)
    {
        await using var command = database.CreateCommand("SELECT option, sum(count)::bigint FROM tallies GROUP BY option HAVING sum(count) <> 0");
        return await ReadCountsAsync(command);
    }

    /// <summary>The counts per option computed from the rows themselves.</summary>
    public static async Task<Dictionary<string, long>> CountVotesAsync(this NpgsqlDataSource database)
    {
        await using var command = database.CreateCommand("SELECT option, count(*) FROM votes GROUP BY option");
        return await ReadCountsAsync(command);
    }

    private static async Task<Dictionary<string, long>> ReadCountsAsync(NpgsqlCommand command)
    {
        await using var reader = await command.ExecuteReaderAsync();
        var counts = new Dictionary<string, long>();
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }
}

using Npgsql;
using NpgsqlTypes;
using Voting.Grains;

namespace Voting.Storage.Postgres;

/// <summary>Writes batches of votes to <c>votes</c>, keeping each voter's latest vote.</summary>
/// <remarks>
/// One statement per batch: the votes travel as arrays, PostgreSQL keeps the latest vote per voter within the
/// batch and then only replaces a stored row with a later one. The tally triggers see exactly the rows that changed.
/// Replaying a batch changes nothing, so a batch that failed for any reason can simply be written again.
/// </remarks>
public sealed class VoteWriter(NpgsqlDataSource dataSource)
{
    private const int MaxAttempts = 5;

    private const string UpsertSql =
        """
        INSERT INTO votes AS v (voter_id, option, voted_at, vote_id, frontend_id, address_hash, user_agent_hash, identity_issued_at)
        SELECT DISTINCT ON (b.voter_id) b.voter_id, b.option, b.voted_at, b.vote_id, b.frontend_id,
               b.address_hash, b.user_agent_hash, b.identity_issued_at
        FROM unnest(@voter_ids, @options, @voted_at, @vote_ids, @frontend_ids, @address_hashes, @user_agent_hashes, @identity_issued_at)
             AS b(voter_id, option, voted_at, vote_id, frontend_id, address_hash, user_agent_hash, identity_issued_at)
        ORDER BY b.voter_id, b.voted_at DESC, b.vote_id DESC
        ON CONFLICT (voter_id) DO UPDATE
        SET option = excluded.option,
            voted_at = excluded.voted_at,
            vote_id = excluded.vote_id,
            frontend_id = excluded.frontend_id,
            address_hash = excluded.address_hash,
            user_agent_hash = excluded.user_agent_hash,
            identity_issued_at = excluded.identity_issued_at
        WHERE (v.voted_at, v.vote_id) < (excluded.voted_at, excluded.vote_id)
        """;

    /// <summary>Commits the votes in one transaction and returns how many rows were inserted or replaced.</summary>
    /// <remarks>Deadlocks and serialisation failures with concurrent writers are retried here; other errors are thrown.</remarks>
    public Task<int> WriteAsync(string frontendId, IReadOnlyList<Vote> votes, CancellationToken cancellationToken) =>
        WriteAsync(votes, Enumerable.Repeat(frontendId, votes.Count).ToArray(), cancellationToken);

    /// <summary>
    /// Commits the votes in one transaction, each recorded with the front end it entered through
    /// (<paramref name="frontendIds"/>, one per vote), and returns how many rows were inserted or replaced.
    /// </summary>
    /// <remarks>Deadlocks and serialisation failures with concurrent writers are retried here; other errors are thrown.</remarks>
    public Task<int> WriteAsync(IReadOnlyList<Vote> votes, IReadOnlyList<string> frontendIds, CancellationToken cancellationToken) =>
        WriteAsync(votes, frontendIds, forensics: null, cancellationToken);

    /// <summary>
    /// Commits the votes in one transaction, each recorded with the front end it entered through
    /// (<paramref name="frontendIds"/>) and its forensic data (<paramref name="forensics"/>; null: none known), one per
    /// vote, and returns how many rows were inserted or replaced. A row that is replaced takes the new vote's forensic
    /// data: a row describes the voter's latest vote.
    /// </summary>
    /// <remarks>Deadlocks and serialisation failures with concurrent writers are retried here; other errors are thrown.</remarks>
    public async Task<int> WriteAsync(
        IReadOnlyList<Vote> votes, IReadOnlyList<string> frontendIds, IReadOnlyList<VoteForensics>? forensics, CancellationToken cancellationToken)
    {
        if (frontendIds.Count != votes.Count)
        {
            throw new ArgumentException($"{frontendIds.Count} front-end ids for {votes.Count} votes.", nameof(frontendIds));
        }

        if (forensics is not null && forensics.Count != votes.Count)
        {
            throw new ArgumentException($"{forensics.Count} forensic records for {votes.Count} votes.", nameof(forensics));
        }

        if (votes.Count == 0)
        {
            return 0;
        }

        var voterIds = new Guid[votes.Count];
        var options = new string[votes.Count];
        var votedAt = new DateTime[votes.Count];
        var voteIds = new Guid[votes.Count];
        var frontends = new string[votes.Count];
        var addressHashes = new long?[votes.Count];
        var userAgentHashes = new long?[votes.Count];
        var issuedAt = new DateTime?[votes.Count];
        for (var i = 0; i < votes.Count; i++)
        {
            var vote = votes[i];
            voterIds[i] = vote.VoterId;
            options[i] = vote.Option;
            votedAt[i] = vote.Timestamp;
            voteIds[i] = vote.VoteId;
            frontends[i] = frontendIds[i];
            if (forensics is not null)
            {
                var known = forensics[i];
                addressHashes[i] = known.AddressHash;
                userAgentHashes[i] = known.UserAgentHash;
                issuedAt[i] = known.IdentityIssuedAt;
            }
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var command = dataSource.CreateCommand(UpsertSql);
                command.Parameters.Add(new NpgsqlParameter<Guid[]>("voter_ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = voterIds });
                command.Parameters.Add(new NpgsqlParameter<string[]>("options", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = options });
                command.Parameters.Add(new NpgsqlParameter<DateTime[]>("voted_at", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = votedAt });
                command.Parameters.Add(new NpgsqlParameter<Guid[]>("vote_ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = voteIds });
                command.Parameters.Add(new NpgsqlParameter<string[]>("frontend_ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = frontends });
                command.Parameters.Add(new NpgsqlParameter<long?[]>("address_hashes", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = addressHashes });
                command.Parameters.Add(new NpgsqlParameter<long?[]>("user_agent_hashes", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = userAgentHashes });
                command.Parameters.Add(new NpgsqlParameter<DateTime?[]>("identity_issued_at", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = issuedAt });
                // A single statement outside an explicit transaction is its own transaction: the rows and the tally
                // deltas from the triggers commit together or not at all.
                return await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e) when (attempt < MaxAttempts && e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt), cancellationToken);
            }
        }
    }
}

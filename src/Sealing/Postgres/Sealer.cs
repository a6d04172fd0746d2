using Npgsql;
using NpgsqlTypes;
using Voting.Sealing.Ballots;
using Voting.Sealing.Manifest;

namespace Voting.Sealing.Postgres;

/// <summary>
/// Seals a closed poll from the votes database. The first seal reads every row of <c>votes</c> in one statement (one
/// snapshot), computes the pseudonyms, sorts, builds the tree, signs the manifest and keeps manifest and ballots
/// (<c>seals</c>, <c>sealed_ballots</c>), all in one transaction under an advisory lock per poll. Every later seal
/// reads those back (<see cref="SealReader"/>), so it has the same manifest and root whatever was written to
/// <c>votes</c> since. Waiting for the drain before the first seal is the caller's.
/// </summary>
public sealed class Sealer(NpgsqlDataSource database, PseudonymKey pseudonyms, SealSigningKey signingKey, TimeProvider time)
{
    private const int AdvisoryLockClass = 0x5365616C; // "Seal"

    public async Task<Seal> SealAsync(PollFacts poll, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var @lock = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@class, hashtext(@poll))", connection, transaction))
        {
            @lock.Parameters.AddWithValue("class", AdvisoryLockClass);
            @lock.Parameters.AddWithValue("poll", poll.Id);
            await @lock.ExecuteNonQueryAsync(cancellationToken);
        }

        if (await SealReader.ReadAsync(connection, poll.Id, cancellationToken) is { } existing)
        {
            return existing;
        }

        var ballots = await ReadVotesAsync(connection, poll.Options, cancellationToken);
        var seal = await Seal.CreateAsync(poll, ballots, signingKey, time.GetUtcNow(), cancellationToken);
        await WriteBallotsAsync(connection, poll.Id, ballots, cancellationToken);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO seals (poll_id, sealed_at, merkle_root, manifest, public_key) VALUES (@poll, @sealedAt, @root, @manifest, @key)",
            connection, transaction))
        {
            insert.Parameters.AddWithValue("poll", poll.Id);
            insert.Parameters.AddWithValue("sealedAt", seal.Manifest.SealedAt);
            insert.Parameters.AddWithValue("root", seal.Manifest.MerkleRoot);
            insert.Parameters.AddWithValue("manifest", seal.ManifestBytes);
            insert.Parameters.AddWithValue("key", seal.PublicKeyPem);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return seal;
    }

    /// <summary>The poll's seal as it was kept, or null when it was never sealed.</summary>
    public Task<Seal?> FindAsync(string pollId, CancellationToken cancellationToken) =>
        new SealReader(database).FindAsync(pollId, cancellationToken);

    /// <summary>Every row of <c>votes</c>, by binary COPY (one statement: one snapshot), as ballots in canonical order.</summary>
    private async Task<BallotSet> ReadVotesAsync(NpgsqlConnection connection, IReadOnlyList<string> options, CancellationToken cancellationToken)
    {
        var rows = await EstimateRowsAsync(connection, cancellationToken);
        var builder = new BallotSet.Builder(options).WithCapacity(rows);
        // The same few strings on every row: one instance each.
        var strings = new Dictionary<string, string>(StringComparer.Ordinal);
        string Shared(string value) => strings.TryGetValue(value, out var shared) ? shared : strings[value] = value;

        await using var copy = await connection.BeginBinaryExportAsync(
            "COPY (SELECT voter_id, option, vote_id, frontend_id FROM votes) TO STDOUT (FORMAT BINARY)", cancellationToken);
        while (await copy.StartRowAsync(cancellationToken) != -1)
        {
            var voter = await copy.ReadAsync<Guid>(NpgsqlDbType.Uuid, cancellationToken);
            var option = Shared(await copy.ReadAsync<string>(NpgsqlDbType.Text, cancellationToken));
            var voteId = await copy.ReadAsync<Guid>(NpgsqlDbType.Uuid, cancellationToken);
            var frontend = Shared(await copy.ReadAsync<string>(NpgsqlDbType.Text, cancellationToken));
            builder.Add(pseudonyms.Of(voter), option, voteId, frontend);
        }

        return builder.Build();
    }

    /// <summary>The planner's row count of <c>votes</c>, for the ballots' first allocation (a guess; never a limit).</summary>
    private static async Task<int> EstimateRowsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'votes'::regclass", connection);
        var estimate = await command.ExecuteScalarAsync(cancellationToken) is long rows ? rows : 0;
        return (int)Math.Clamp(estimate + estimate / 16, 1024, 50_000_000);
    }

    private static async Task WriteBallotsAsync(NpgsqlConnection connection, string pollId, BallotSet ballots, CancellationToken cancellationToken)
    {
        var pseudonym = new byte[Pseudonym.Length];
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY sealed_ballots (poll_id, pseudonym, option, vote_id, frontend_id) FROM STDIN (FORMAT BINARY)", cancellationToken);
        for (var i = 0; i < ballots.Count; i++)
        {
            var ballot = ballots[i];
            ballot.Pseudonym.WriteBytes(pseudonym);
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(pollId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(pseudonym, NpgsqlDbType.Bytea, cancellationToken);
            await copy.WriteAsync(ballot.Option, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(ballot.VoteId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(ballot.FrontendId, NpgsqlDbType.Text, cancellationToken);
        }

        await copy.CompleteAsync(cancellationToken);
    }
}

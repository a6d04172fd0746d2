using Npgsql;
using Voting.Sealing.Ballots;
using Voting.Sealing.Manifest;
using Voting.Sealing.Merkle;

namespace Voting.Sealing.Postgres;

/// <summary>
/// Reads a poll's kept seal (<c>seals</c>, <c>sealed_ballots</c>) back, checking that the kept ballots make the kept
/// manifest's root. It needs no key: the results role reads the seal with it to publish it and to prove receipts, and
/// the <see cref="Sealer"/> reads an existing seal with it inside its own transaction.
/// </summary>
public sealed class SealReader(NpgsqlDataSource database)
{
    /// <summary>Whether the poll has been sealed: one row looked up by its key, cheap enough to ask every few seconds.</summary>
    public async Task<bool> ExistsAsync(string pollId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT EXISTS (SELECT 1 FROM seals WHERE poll_id = @poll)");
        command.Parameters.AddWithValue("poll", pollId);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>The poll's seal as it was kept, or null when it was never sealed.</summary>
    public async Task<Seal?> FindAsync(string pollId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        return await ReadAsync(connection, pollId, cancellationToken);
    }

    /// <summary>The poll's kept seal read on <paramref name="connection"/> (within its transaction, if any), or null.</summary>
    internal static async Task<Seal?> ReadAsync(NpgsqlConnection connection, string pollId, CancellationToken cancellationToken)
    {
        byte[] signed;
        string publicKey;
        await using (var command = new NpgsqlCommand("SELECT manifest, public_key FROM seals WHERE poll_id = @poll", connection))
        {
            command.Parameters.AddWithValue("poll", pollId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            signed = reader.GetFieldValue<byte[]>(0);
            publicKey = reader.GetString(1);
        }

        if (!ManifestJson.TrySplit(signed, out var signedBytes, out _, out var problem))
        {
            throw new SealingException($"the kept seal of poll '{pollId}' is damaged: {problem}");
        }

        var manifest = ManifestJson.Parse(signedBytes);
        var builder = new BallotSet.Builder(manifest.Options).WithCapacity(checked((int)manifest.Ballots));
        await using (var command = new NpgsqlCommand(
            "SELECT pseudonym, option, vote_id, frontend_id FROM sealed_ballots WHERE poll_id = @poll", connection))
        {
            command.Parameters.AddWithValue("poll", pollId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                builder.Add(Pseudonym.FromBytes(reader.GetFieldValue<byte[]>(0)), reader.GetString(1), reader.GetGuid(2), reader.GetString(3));
            }
        }

        var ballots = builder.Build();
        var tree = new MerkleTree(ballots);
        if (Convert.ToHexStringLower(tree.Root) != manifest.MerkleRoot)
        {
            throw new SealingException($"the kept ballots of poll '{pollId}' do not make the kept manifest's root");
        }

        return new Seal(signed, manifest, publicKey, ballots, tree);
    }
}

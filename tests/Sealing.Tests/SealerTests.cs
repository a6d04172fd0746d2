using Npgsql;
using Voting.Local.Servers;
using Voting.Sealing.Ballots;
using Voting.Sealing.Manifest;
using Voting.Sealing.Merkle;
using Voting.Sealing.Postgres;
using Voting.Sealing.Verification;
using Voting.Testing;

namespace Voting.Sealing.Tests;

/// <summary>Sealing from a real PostgreSQL as the worker tier's role: the export, the receipts' proofs, a second seal.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SealerTests(PostgresFixture fixture) : IAsyncLifetime
{
    private NpgsqlDataSource _database = null!;
    private SealSigningKey _key = null!;

    public async Task InitializeAsync()
    {
        _database = await fixture.CreateDatabaseAsync(PostgresRoles.Worker);
        _key = TestSeals.NewSigningKey();
    }

    public async Task DisposeAsync()
    {
        _key.Dispose();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task TheSealCountsEveryRowAndItsExportVerifies()
    {
        var voters = await VoteAsync(Enumerable.Range(0, 500).Select(i => (i, i % 5 == 0 ? "cats" : "dogs", i % 3 == 0 ? "frontend01" : "frontend02")));

        var seal = await NewSealer().SealAsync(TestSeals.Poll, CancellationToken.None);

        Assert.Equal(["cats", "dogs"], seal.Manifest.Options);
        Assert.Equal([100L, 400L], seal.Manifest.Tallies);
        Assert.Equal(500, seal.Manifest.Total);
        Assert.Equal(500, seal.Manifest.Ballots);
        Assert.Equal([KeyValuePair.Create("frontend01", 167L), KeyValuePair.Create("frontend02", 333L)], seal.Manifest.Frontends);
        var export = TestDirectories.Create("sealed");
        await seal.WriteExportAsync(export, CancellationToken.None);
        var verified = await ExportVerifier.VerifyAsync(export, CancellationToken.None);
        Assert.True(verified.Verified, string.Join("\n", verified.Problems));
        Assert.Equal(seal.Manifest.MerkleRoot, verified.Manifest!.MerkleRoot);
        Assert.DoesNotContain(voters[0].ToString(), File.ReadAllText(Path.Combine(export, "ballots.csv")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryVotersBallotHasAProofAgainstTheSealedRoot()
    {
        var voters = await VoteAsync(Enumerable.Range(0, 300).Select(i => (i, i % 2 == 0 ? "cats" : "dogs", "frontend01")));

        var seal = await NewSealer().SealAsync(TestSeals.Poll, CancellationToken.None);

        var root = Convert.FromHexString(seal.Manifest.MerkleRoot);
        foreach (var (voter, i) in voters.Select((v, i) => (v, i)))
        {
            var (ballot, proof) = seal.ProofFor(TestSeals.PseudonymKey.Of(voter)) ?? throw new InvalidOperationException($"voter {i} has no ballot");
            Assert.Equal(i % 2 == 0 ? "cats" : "dogs", ballot.Option);
            Assert.True(proof.Verifies(MerkleHash.Leaf(BallotLine.Of(ballot)), root));
        }

        Assert.Null(seal.ProofFor(TestSeals.PseudonymKey.Of(Guid.NewGuid())));
    }

    [Fact]
    public async Task SealingAgainGivesTheSameSealWhateverWasWrittenSince()
    {
        await VoteAsync(Enumerable.Range(0, 200).Select(i => (i, "cats", "frontend01")));
        var first = await NewSealer().SealAsync(TestSeals.Poll, CancellationToken.None);

        // A late vote, a changed vote and another key: none of them reaches the sealed count.
        await VoteAsync([(1000, "dogs", "frontend02")]);
        await using (var change = _database.CreateCommand("UPDATE votes SET option = 'dogs' WHERE voter_id = @voter"))
        {
            change.Parameters.AddWithValue("voter", TestSeals.VoterId(7));
            Assert.Equal(1, await change.ExecuteNonQueryAsync());
        }

        using var otherKey = TestSeals.NewSigningKey();
        var second = await new Sealer(_database, TestSeals.PseudonymKey, otherKey, TimeProvider.System).SealAsync(TestSeals.Poll, CancellationToken.None);

        Assert.Equal(first.ManifestBytes, second.ManifestBytes);
        Assert.Equal(first.PublicKeyPem, second.PublicKeyPem);
        Assert.Equal(first.Manifest.MerkleRoot, Convert.ToHexStringLower(second.Tree.Root));
        Assert.Equal([200L, 0L], second.Manifest.Tallies);
        Assert.Null(second.ProofFor(TestSeals.PseudonymKey.Of(TestSeals.VoterId(1000))));
        var export = TestDirectories.Create("resealed");
        await second.WriteExportAsync(export, CancellationToken.None);
        var verified = await ExportVerifier.VerifyAsync(export, CancellationToken.None);
        Assert.True(verified.Verified, string.Join("\n", verified.Problems));
    }

    [Fact]
    public async Task TwoSealsAtOnceMakeOneSeal()
    {
        await VoteAsync(Enumerable.Range(0, 2000).Select(i => (i, i % 2 == 0 ? "cats" : "dogs", "frontend01")));

        var seals = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => NewSealer().SealAsync(TestSeals.Poll, CancellationToken.None))));

        Assert.All(seals, s => Assert.Equal(seals[0].ManifestBytes, s.ManifestBytes));
        await using var count = _database.CreateCommand("SELECT count(*) FROM seals");
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task TheResultsRoleReadsASealButMayNotWriteOne()
    {
        await VoteAsync([(1, "cats", "frontend01")]);
        await NewSealer().SealAsync(TestSeals.Poll, CancellationToken.None);
        await using var results = fixture.Connect(_database, PostgresRoles.Results);

        await using (var read = results.CreateCommand("SELECT (SELECT count(*) FROM seals) + (SELECT count(*) FROM sealed_ballots)"))
        {
            Assert.Equal(2L, await read.ExecuteScalarAsync());
        }

        await using var write = results.CreateCommand("INSERT INTO seals VALUES ('other', now(), '', '\\x00', '')");
        var error = await Assert.ThrowsAsync<PostgresException>(() => write.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }

    private Sealer NewSealer() => new(_database, TestSeals.PseudonymKey, _key, TimeProvider.System);

    /// <summary>Writes each voter's row as the drainers do (as the worker role); returns the voter ids.</summary>
    private async Task<Guid[]> VoteAsync(IEnumerable<(int Voter, string Option, string Frontend)> votes)
    {
        var rows = votes.ToArray();
        await using var command = _database.CreateCommand(
            """
            INSERT INTO votes (voter_id, option, voted_at, vote_id, frontend_id)
            SELECT * FROM unnest(@voters, @options, @times, @ids, @frontends)
            """);
        command.Parameters.AddWithValue("voters", rows.Select(r => TestSeals.VoterId(r.Voter)).ToArray());
        command.Parameters.AddWithValue("options", rows.Select(r => r.Option).ToArray());
        command.Parameters.AddWithValue("times", rows.Select(_ => DateTime.UtcNow).ToArray());
        command.Parameters.AddWithValue("ids", rows.Select(_ => Guid.CreateVersion7()).ToArray());
        command.Parameters.AddWithValue("frontends", rows.Select(r => r.Frontend).ToArray());
        await command.ExecuteNonQueryAsync();
        return [.. rows.Select(r => TestSeals.VoterId(r.Voter))];
    }
}

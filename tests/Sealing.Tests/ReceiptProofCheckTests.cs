using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Voting.LoadGen.Receipts;
using Voting.Sealing.Ballots;
using Voting.Sealing.Receipts;

namespace Voting.Sealing.Tests;

/// <summary>
/// The load tool's check of a receipt's proof (tools/LoadGen, <see cref="ProofCheck"/>, <see cref="PublishedSeal"/>),
/// with proofs of a real <see cref="Seal"/> written as the results app's lookup answers them: each checks out, and a
/// changed audit path, leaf, ballot, root, manifest or key is refused.
/// </summary>
public sealed class ReceiptProofCheckTests
{
    private const int Voters = 37;

    [Fact]
    public async Task EveryVotersProofFromTheSealChecksOutAsTheirBallot()
    {
        var (seal, published) = await SealAsync();
        for (var i = 0; i < Voters; i++)
        {
            var (ballot, proof) = ProofOf(seal, i);
            var (proven, problem) = ProofCheck.Check(published, CodeOf(i), proof);
            Assert.True(proven is not null, $"voter {i}: {problem}");
            Assert.Equal(new ProvenBallot(ballot.VoteId, ballot.Option), proven);
        }
    }

    [Fact]
    public async Task AProofWithAChangedAuditPathIsRefused()
    {
        var (seal, published) = await SealAsync();
        var proof = Edit(ProofOf(seal, 5).Proof, node =>
        {
            var path = node["auditPath"]!.AsArray();
            var hash = path[0]!.GetValue<string>();
            path[0] = (hash[0] == '0' ? "1" : "0") + hash[1..];
        });
        AssertRefused(published, 5, proof, "audit path does not lead");
    }

    [Fact]
    public async Task AProofWhoseLeafOrBallotWasChangedIsRefused()
    {
        var (seal, published) = await SealAsync();
        var (ballot, original) = ProofOf(seal, 7);
        var other = ballot.Option == "cats" ? "dogs" : "cats";

        // The ballot says another option, its leaf still the counted one.
        AssertRefused(published, 7, Edit(original, node => node["ballot"]!["option"] = other), "leaf is not its ballot's");
        // Ballot and leaf both say another option: the audit path then leads elsewhere.
        AssertRefused(published, 7, Edit(original, node =>
        {
            node["ballot"]!["option"] = other;
            node["leaf"] = Encoding.UTF8.GetString(BallotLine.Of(ballot with { Option = other }));
        }), "audit path does not lead");
        // Another voter's ballot (and its own proof) offered for this voter's code.
        AssertRefused(published, 7, ProofOf(seal, 8).Proof, "another voter's");
    }

    [Fact]
    public async Task AProofOfAnotherSealsRootIsRefused()
    {
        var (seal, _) = await SealAsync();
        var (_, other) = await SealAsync(Voters + 1);
        AssertRefused(other, 3, ProofOf(seal, 3).Proof, "root is not the signed manifest's");
    }

    [Fact]
    public async Task AChangedManifestOrAnotherKeyDoesNotVerify()
    {
        var (seal, _) = await SealAsync();
        var manifest = Encoding.UTF8.GetString(seal.ManifestBytes);
        var total = $"\"total\":{Voters}";
        Assert.Contains(total, manifest, StringComparison.Ordinal);
        var changed = Encoding.UTF8.GetBytes(manifest.Replace(total, $"\"total\":{Voters + 1}", StringComparison.Ordinal));
        Assert.Contains("does not verify", Assert.Throws<FormatException>(() => PublishedSeal.Verify(changed, seal.PublicKeyPem)).Message, StringComparison.Ordinal);

        using var otherKey = TestSeals.NewSigningKey();
        Assert.Contains("does not verify", Assert.Throws<FormatException>(() => PublishedSeal.Verify(seal.ManifestBytes, otherKey.PublicKeyPem)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeptReceiptsFileReadsBackWithEachVotersLatestVote()
    {
        var earlier = Guid.CreateVersion7(DateTimeOffset.UtcNow.AddSeconds(-1));
        var later = Guid.CreateVersion7(DateTimeOffset.UtcNow);
        VoterReceipts[] voters =
        [
            new(0, CodeOf(0), [new KeptReceipt(later, "dogs"), new KeptReceipt(earlier, "cats")], Uncertain: false, Address: "198.18.0.1"),
            new(3, CodeOf(3), [new KeptReceipt(earlier, "cats")], Uncertain: true, Address: null),
        ];
        var path = Path.Combine(Voting.Testing.TestDirectories.Create("receipts"), "receipts.csv");
        await ReceiptFile.WriteAsync(path, voters, CancellationToken.None);

        var read = await ReceiptFile.ReadAsync(path, CancellationToken.None);
        Assert.Equal(2, read.Count);
        Assert.Equal((later, "dogs"), (read[0].Latest.VoteId, read[0].Latest.Option));
        Assert.Equal([earlier], read[0].Superseded.Select(r => r.VoteId));
        Assert.Equal(voters[1].Code, read[1].Code);
        Assert.True(read[1].Uncertain);
        // The client address each voter voted from, which their lookups present; none: the tool's own.
        Assert.Equal(["198.18.0.1", null], read.Select(v => v.Address));

        // A file kept before the address was reads too, its voters from the tool's own address.
        var older = Path.Combine(Voting.Testing.TestDirectories.Create("receipts"), "receipts.csv");
        await File.WriteAllTextAsync(older, $"voter,vote_id,option,code,uncertain\n3,{earlier:D},cats,{CodeOf(3)},0\n");
        Assert.Null((await ReceiptFile.ReadAsync(older, CancellationToken.None)).Single().Address);

        await File.AppendAllTextAsync(path, $"5,{later:D},cats,{CodeOf(5)},0,not-an-address\n");
        Assert.Contains("line 5", (await Assert.ThrowsAsync<FormatException>(() => ReceiptFile.ReadAsync(path, CancellationToken.None))).Message, StringComparison.Ordinal);
    }

    private static ReceiptCode CodeOf(int voter) => ReceiptCode.Of(TestSeals.PseudonymKey.Of(TestSeals.VoterId(voter)));

    private static void AssertRefused(PublishedSeal published, int voter, JsonElement proof, string reason)
    {
        var (proven, problem) = ProofCheck.Check(published, CodeOf(voter), proof);
        Assert.Null(proven);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    private static async Task<(Seal Seal, PublishedSeal Published)> SealAsync(int voters = Voters)
    {
        using var key = TestSeals.NewSigningKey();
        var seal = await Seal.CreateAsync(TestSeals.Poll, TestSeals.Ballots(voters), key, TestSeals.SealedAt, CancellationToken.None);
        return (seal, PublishedSeal.Verify(seal.ManifestBytes, seal.PublicKeyPem));
    }

    /// <summary>Voter <paramref name="voter"/>'s ballot and its proof, as the results app's receipt lookup writes it (docs/SEALING.md).</summary>
    private static (Ballot Ballot, JsonElement Proof) ProofOf(Seal seal, int voter)
    {
        var (ballot, proof) = seal.ProofFor(TestSeals.PseudonymKey.Of(TestSeals.VoterId(voter))) ?? throw new InvalidOperationException($"voter {voter} has no ballot");
        var json = new JsonObject
        {
            ["ballot"] = new JsonObject { ["pseudonym"] = ballot.Pseudonym.ToString(), ["voteId"] = ballot.VoteId.ToString("D"), ["option"] = ballot.Option },
            ["leaf"] = Encoding.UTF8.GetString(BallotLine.Of(ballot)),
            ["leafIndex"] = proof.LeafIndex,
            ["treeSize"] = proof.TreeSize,
            ["auditPath"] = new JsonArray([.. proof.Path.Select(h => (JsonNode)Convert.ToHexStringLower(h))]),
            ["merkleRoot"] = seal.Manifest.MerkleRoot,
            ["manifestUrl"] = "/api/results/final/manifest.json",
            ["publicKeyUrl"] = "/api/results/final/public-key.pem",
        };
        return (ballot, JsonSerializer.SerializeToElement(json));
    }

    private static JsonElement Edit(JsonElement proof, Action<JsonNode> edit)
    {
        var node = JsonNode.Parse(proof.GetRawText())!;
        edit(node);
        return JsonSerializer.SerializeToElement(node);
    }
}

using System.Text;
using System.Text.Json;
using Voting.Sealing.Ballots;
using Voting.Sealing.Merkle;
using Voting.Sealing.Receipts;

namespace Voting.LoadGen.Receipts;

/// <summary>The ballot a proof proves included, once it checked out.</summary>
public readonly record struct ProvenBallot(Guid VoteId, string Option);

/// <summary>
/// Checks a receipt's proof (the <c>proof</c> of <c>GET /api/receipts/{voteId}?code=</c>, docs/SEALING.md) as a voter's
/// browser would, with nothing but the published seal: the ballot is the code's (its pseudonym begins with the code)
/// and for one of the poll's options, the leaf is that ballot's <c>ballot-line-v1</c> text, and the audit path leads
/// from the leaf's hash to the manifest's signed root, in a tree of the manifest's size.
/// </summary>
public static class ProofCheck
{
    /// <summary>The ballot <paramref name="proof"/> proves in <paramref name="seal"/>, or the reason it proves nothing.</summary>
    public static (ProvenBallot? Ballot, string? Problem) Check(PublishedSeal seal, ReceiptCode code, JsonElement proof)
    {
        try
        {
            return CheckUnsafe(seal, code, proof);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return (null, "the proof is not of the published form: " + e.Message);
        }
    }

    private static (ProvenBallot? Ballot, string? Problem) CheckUnsafe(PublishedSeal seal, ReceiptCode code, JsonElement proof)
    {
        var manifest = seal.Manifest;
        var ballot = proof.GetProperty("ballot");
        if (!Pseudonym.TryParse(ballot.GetProperty("pseudonym").GetString(), out var pseudonym))
        {
            return (null, "the proof's ballot has no pseudonym (32 lowercase hex digits)");
        }

        var voteId = Guid.ParseExact(ballot.GetProperty("voteId").GetString() ?? "", "D");
        var option = ballot.GetProperty("option").GetString() ?? "";
        if (!code.Matches(pseudonym))
        {
            return (null, $"the proof's ballot is another voter's: its pseudonym {pseudonym} does not begin with the code {code}");
        }

        if (!manifest.Options.Contains(option, StringComparer.Ordinal))
        {
            return (null, $"the proof's ballot is for '{option}', not an option of the poll");
        }

        var leaf = BallotLine.Of(new Ballot(pseudonym, option, voteId, ""));
        if (proof.GetProperty("leaf").GetString() != Encoding.UTF8.GetString(leaf))
        {
            return (null, "the proof's leaf is not its ballot's ballot-line-v1 text");
        }

        if (proof.GetProperty("merkleRoot").GetString() != manifest.MerkleRoot)
        {
            return (null, "the proof's root is not the signed manifest's");
        }

        var treeSize = proof.GetProperty("treeSize").GetInt64();
        if (treeSize != manifest.Ballots)
        {
            return (null, $"the proof's tree has {treeSize} leaves; the manifest counts {manifest.Ballots} ballots");
        }

        var path = proof.GetProperty("auditPath").EnumerateArray().Select(h => Convert.FromHexString(h.GetString() ?? "")).ToList();
        var inclusion = new InclusionProof(proof.GetProperty("leafIndex").GetInt64(), treeSize, path);
        return inclusion.Verifies(MerkleHash.Leaf(leaf), Convert.FromHexString(manifest.MerkleRoot))
            ? (new ProvenBallot(voteId, option), null)
            : (null, "the proof's audit path does not lead from its leaf to the signed root");
    }
}

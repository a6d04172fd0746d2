using Voting.Sealing.Ballots;
using Voting.Sealing.Export;
using Voting.Sealing.Manifest;
using Voting.Sealing.Merkle;

namespace Voting.Sealing;

/// <summary>A poll's sealed count: the signed manifest, the ballots in canonical order and their tree.</summary>
public sealed class Seal
{
    internal Seal(byte[] manifestJson, SealManifest manifest, string publicKeyPem, BallotSet ballots, MerkleTree tree)
    {
        ManifestBytes = manifestJson;
        Manifest = manifest;
        PublicKeyPem = publicKeyPem;
        Ballots = ballots;
        Tree = tree;
    }

    /// <summary>
    /// Seals <paramref name="ballots"/> as the count of <paramref name="poll"/>: the tree, the ballots file's hash, the
    /// manifest signed with <paramref name="signingKey"/>.
    /// </summary>
    public static async Task<Seal> CreateAsync(
        PollFacts poll, BallotSet ballots, SealSigningKey signingKey, DateTimeOffset sealedAt, CancellationToken cancellationToken)
    {
        var tree = new MerkleTree(ballots);
        var ballotsSha256 = Convert.ToHexStringLower(await BallotsCsv.WriteAsync(ballots, null, cancellationToken));
        var manifest = new SealManifest(
            poll.Id, poll.Name, poll.OpenedAt, poll.ClosedAt, sealedAt, ballots.Options, ballots.Tallies(), ballots.Count,
            [.. ballots.CountsPerFrontend()], ballots.Count, Convert.ToHexStringLower(tree.Root), ballotsSha256);
        var signedBytes = ManifestJson.SignedBytes(manifest);
        var signed = ManifestJson.WithSignature(signedBytes, signingKey.Sign(signedBytes));
        // The manifest as it reads back: its times at the precision written.
        return new Seal(signed, ManifestJson.Parse(signedBytes), signingKey.PublicKeyPem, ballots, tree);
    }

    /// <summary>manifest.json's bytes, signature included.</summary>
    public byte[] ManifestBytes { get; }

    public SealManifest Manifest { get; }

    public string PublicKeyPem { get; }

    public BallotSet Ballots { get; }

    public MerkleTree Tree { get; }

    /// <summary>Writes manifest.json, ballots.csv and public-key.pem into <paramref name="directory"/>.</summary>
    public Task WriteExportAsync(string directory, CancellationToken cancellationToken) =>
        SealExport.WriteAsync(directory, ManifestBytes, Ballots, Manifest.BallotsSha256, PublicKeyPem, cancellationToken);

    /// <summary>The ballot of <paramref name="pseudonym"/> and its inclusion proof, or null when the seal has none.</summary>
    public (Ballot Ballot, InclusionProof Proof)? ProofFor(Pseudonym pseudonym)
    {
        var index = Ballots.IndexOf(pseudonym);
        return index < 0 ? null : (Ballots[index], Tree.ProofFor(index));
    }
}

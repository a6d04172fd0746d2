using Voting.Sealing.Ballots;
using Voting.Sealing.Export;
using Voting.Sealing.Manifest;
using Voting.Sealing.Merkle;

namespace Voting.Sealing.Postgres;

/// <summary>A poll's sealed count: the signed manifest, the ballots in canonical order and their tree.</summary>
public sealed class Seal
{
    internal Seal(byte[] manifestJson, SealManifest manifest, string publicKeyPem, BallotSet ballots, MerkleTree tree)
    {
        ManifestJson = manifestJson;
        Manifest = manifest;
        PublicKeyPem = publicKeyPem;
        Ballots = ballots;
        Tree = tree;
    }

    /// <summary>manifest.json's bytes, signature included.</summary>
    public byte[] ManifestJson { get; }

    public SealManifest Manifest { get; }

    public string PublicKeyPem { get; }

    public BallotSet Ballots { get; }

    public MerkleTree Tree { get; }

    /// <summary>Writes manifest.json, ballots.csv and public-key.pem into <paramref name="directory"/>.</summary>
    public Task WriteExportAsync(string directory, CancellationToken cancellationToken) =>
        SealExport.WriteAsync(directory, ManifestJson, Ballots, Manifest.BallotsSha256, PublicKeyPem, cancellationToken);

    /// <summary>The ballot of <paramref name="pseudonym"/> and its inclusion proof, or null when the seal has none.</summary>
    public (Ballot Ballot, InclusionProof Proof)? ProofFor(Pseudonym pseudonym)
    {
        var index = Ballots.IndexOf(pseudonym);
        return index < 0 ? null : (Ballots[index], Tree.ProofFor(index));
    }
}

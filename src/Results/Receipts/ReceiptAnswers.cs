namespace Voting.Results.Receipts;

/// <summary>A lookup that is not a receipt (400): what is wrong with it.</summary>
public sealed record ReceiptError(string Error);

/// <summary>A receipt whose vote is not in the sealed count (404): <c>not-counted</c> or <c>not-found</c>, and why.</summary>
public sealed record ReceiptNotCounted(string Status, string Reason);

/// <summary>A receipt proved (200): <c>included</c> (its own vote) or <c>superseded</c> (the voter's later vote's proof).</summary>
public sealed record ReceiptProven(string Status, string VoteId, BallotProof Proof);

/// <summary>
/// A counted ballot's inclusion proof, everything a browser needs to check it: the ballot, its leaf text, where it
/// is in the tree, the audit path (nearest the leaf first, RFC 9162 section 2.1.3.2), the root, and where the signed
/// manifest and its public key are, against which the root is checked.
/// </summary>
public sealed record BallotProof(
    ProvenBallot Ballot,
    string Leaf,
    long LeafIndex,
    long TreeSize,
    IReadOnlyList<string> AuditPath,
    string MerkleRoot,
    string ManifestUrl,
    string PublicKeyUrl);

/// <summary>The ballot as the leaf holds it: pseudonym (32 hex), vote id, option key.</summary>
public sealed record ProvenBallot(string Pseudonym, string VoteId, string Option);

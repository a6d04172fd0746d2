namespace Voting.Sealing.Merkle;

/// <summary>Leaves that a <see cref="MerkleTree"/> can hash again on demand, by index: a sealed set of ballots.</summary>
public interface IMerkleLeaves
{
    int Count { get; }

    /// <summary>Writes the RFC 6962 leaf hash of leaf <paramref name="index"/> into <paramref name="destination"/>.</summary>
    void HashLeaf(int index, Span<byte> destination);
}

namespace Voting.Sealing.Merkle;

/// <summary>
/// An RFC 6962 audit path: the hashes that, with leaf <see cref="LeafIndex"/>'s hash, recompute the root of a tree
/// of <see cref="TreeSize"/> leaves, nearest the leaf first. Checked as RFC 9162 (section 2.1.3.2) describes.
/// </summary>
public sealed record InclusionProof(long LeafIndex, long TreeSize, IReadOnlyList<byte[]> Path)
{
    /// <summary>Whether the path leads from <paramref name="leafHash"/> at <see cref="LeafIndex"/> to <paramref name="root"/>.</summary>
    public bool Verifies(ReadOnlySpan<byte> leafHash, ReadOnlySpan<byte> root)
    {
        if (LeafIndex < 0 || LeafIndex >= TreeSize || leafHash.Length != MerkleHash.Size)
        {
            return false;
        }

        var index = LeafIndex;
        var last = TreeSize - 1;
        Span<byte> hash = stackalloc byte[MerkleHash.Size];
        leafHash.CopyTo(hash);
        foreach (var sibling in Path)
        {
            if (last == 0 || sibling.Length != MerkleHash.Size)
            {
                return false;
            }

            if ((index & 1) == 1 || index == last)
            {
                // A right child, or the last node of its level with no right sibling: the sibling is on the left.
                MerkleHash.Node(sibling, hash, hash);
                // Skip the levels where this node was promoted alone (it had no sibling).
                while ((index & 1) == 0 && index != 0)
                {
                    index >>= 1;
                    last >>= 1;
                }
            }
            else
            {
                MerkleHash.Node(hash, sibling, hash);
            }

            index >>= 1;
            last >>= 1;
        }

        return last == 0 && hash.SequenceEqual(root);
    }
}

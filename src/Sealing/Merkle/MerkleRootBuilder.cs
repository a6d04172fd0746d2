namespace Voting.Sealing.Merkle;

/// <summary>
/// The RFC 6962 root of leaves given one at a time, in O(log n) memory: it keeps the roots of the complete subtrees
/// seen so far (at most one per height, largest first, like the bits of the count). Two of the same height merge
/// at once; at the end they fold from the right, which is RFC 6962's split at the largest power of two below n.
/// </summary>
public sealed class MerkleRootBuilder
{
    private readonly List<(byte[] Hash, int Height)> _subtrees = [];

    public long Count { get; private set; }

    /// <summary>Adds a leaf by its bytes (hashed here as a leaf).</summary>
    public void AddLeaf(ReadOnlySpan<byte> leaf)
    {
        var hash = new byte[MerkleHash.Size];
        MerkleHash.Leaf(leaf, hash);
        AddLeafHash(hash);
    }

    /// <summary>Adds a leaf by its leaf hash; the builder keeps <paramref name="leafHash"/>, so do not reuse it.</summary>
    public void AddLeafHash(byte[] leafHash)
    {
        var hash = leafHash;
        var height = 0;
        while (_subtrees.Count > 0 && _subtrees[^1].Height == height)
        {
            var left = _subtrees[^1].Hash;
            _subtrees.RemoveAt(_subtrees.Count - 1);
            // The left subtree's array is free now: the merged node goes into it.
            MerkleHash.Node(left, hash, left);
            hash = left;
            height++;
        }

        _subtrees.Add((hash, height));
        Count++;
    }

    /// <summary>The root of the leaves added so far (the empty tree's hash for none).</summary>
    public byte[] Root()
    {
        if (_subtrees.Count == 0)
        {
            return MerkleHash.Empty.ToArray();
        }

        var root = _subtrees[^1].Hash.ToArray();
        for (var i = _subtrees.Count - 2; i >= 0; i--)
        {
            MerkleHash.Node(_subtrees[i].Hash, root, root);
        }

        return root;
    }
}

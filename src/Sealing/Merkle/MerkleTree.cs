using System.Buffers;

namespace Voting.Sealing.Merkle;

/// <summary>
/// The RFC 6962 tree of a sealed set of leaves, answering inclusion proofs. RFC 6962's tree is the same as pairing
/// each level's nodes from the left and promoting an odd last node unchanged, so the tree is kept as levels: only
/// those from <see cref="ChunkHeight"/> up. A proof hashes its leaf's chunk (2^ChunkHeight leaves) again from
/// <see cref="IMerkleLeaves"/> and takes the rest of the path from the kept levels. With the default 256-leaf
/// chunks, ten million leaves keep about 2.5 MB of hashes instead of 640 MB, and a proof costs some 500 hashes.
/// </summary>
public sealed class MerkleTree
{
    public const int DefaultChunkHeight = 8;

    private readonly IMerkleLeaves _leaves;
    private readonly int _chunkSize;

    /// <summary>The kept levels, chunk roots first; each is its nodes' hashes back to back.</summary>
    private readonly List<byte[]> _levels = [];

    public MerkleTree(IMerkleLeaves leaves, int chunkHeight = DefaultChunkHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunkHeight);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkHeight, 20);
        _leaves = leaves;
        ChunkHeight = chunkHeight;
        _chunkSize = 1 << chunkHeight;
        if (leaves.Count == 0)
        {
            Root = MerkleHash.Empty.ToArray();
            return;
        }

        var chunks = (leaves.Count + _chunkSize - 1) / _chunkSize;
        var level = new byte[chunks * MerkleHash.Size];
        var scratch = ArrayPool<byte>.Shared.Rent(_chunkSize * MerkleHash.Size);
        try
        {
            for (var chunk = 0; chunk < chunks; chunk++)
            {
                var count = HashChunk(chunk, scratch);
                while (count > 1)
                {
                    count = Reduce(scratch, count);
                }

                scratch.AsSpan(0, MerkleHash.Size).CopyTo(level.AsSpan(chunk * MerkleHash.Size));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }

        _levels.Add(level);
        while (level.Length > MerkleHash.Size)
        {
            level = Reduced(level, level.Length / MerkleHash.Size);
            _levels.Add(level);
        }

        Root = level;
    }

    public int ChunkHeight { get; }

    public int Count => _leaves.Count;

    public byte[] Root { get; }

    /// <summary>The audit path of leaf <paramref name="index"/>.</summary>
    public InclusionProof ProofFor(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var path = new List<byte[]>();
        var chunk = index >> ChunkHeight;
        var scratch = ArrayPool<byte>.Shared.Rent(_chunkSize * MerkleHash.Size);
        try
        {
            var count = HashChunk(chunk, scratch);
            var position = index & (_chunkSize - 1);
            while (count > 1)
            {
                AddSibling(path, scratch, position, count);
                count = Reduce(scratch, count);
                position >>= 1;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }

        var node = chunk;
        foreach (var level in _levels.Take(_levels.Count - 1))
        {
            AddSibling(path, level, node, level.Length / MerkleHash.Size);
            node >>= 1;
        }

        return new InclusionProof(index, Count, path);
    }

    /// <summary>The leaf hashes of <paramref name="chunk"/> into <paramref name="scratch"/>; returns how many.</summary>
    private int HashChunk(int chunk, byte[] scratch)
    {
        var first = chunk * _chunkSize;
        var count = Math.Min(_chunkSize, Count - first);
        for (var i = 0; i < count; i++)
        {
            _leaves.HashLeaf(first + i, scratch.AsSpan(i * MerkleHash.Size, MerkleHash.Size));
        }

        return count;
    }

    /// <summary>One level up, in place: pairs from the left, an odd last node promoted. Returns the new count.</summary>
    private static int Reduce(Span<byte> nodes, int count)
    {
        for (var i = 0; i < count / 2; i++)
        {
            MerkleHash.Node(nodes.Slice(2 * i * MerkleHash.Size, MerkleHash.Size), nodes.Slice((2 * i + 1) * MerkleHash.Size, MerkleHash.Size),
                nodes.Slice(i * MerkleHash.Size, MerkleHash.Size));
        }

        if (count % 2 == 1)
        {
            nodes.Slice((count - 1) * MerkleHash.Size, MerkleHash.Size).CopyTo(nodes.Slice(count / 2 * MerkleHash.Size));
        }

        return (count + 1) / 2;
    }

    /// <summary>The level above <paramref name="level"/>, a new array (the kept levels stay as they are).</summary>
    private static byte[] Reduced(byte[] level, int count)
    {
        var next = level.ToArray();
        var reduced = Reduce(next, count);
        return next.AsSpan(0, reduced * MerkleHash.Size).ToArray();
    }

    private static void AddSibling(List<byte[]> path, ReadOnlySpan<byte> nodes, int position, int count)
    {
        var sibling = position ^ 1;
        if (sibling < count)
        {
            path.Add(nodes.Slice(sibling * MerkleHash.Size, MerkleHash.Size).ToArray());
        }
    }
}

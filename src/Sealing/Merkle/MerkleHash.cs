using System.Security.Cryptography;

namespace Voting.Sealing.Merkle;

/// <summary>
/// The hashes of RFC 6962's Merkle Tree Hash (Certificate Transparency, section 2.1), rule <c>rfc6962-sha256</c>:
/// a leaf is SHA-256(0x00 || leaf bytes), an inner node SHA-256(0x01 || left || right); the empty tree's hash is
/// SHA-256 of nothing. The prefixes keep a leaf from ever passing for a node.
/// </summary>
public static class MerkleHash
{
    public const string Rule = "rfc6962-sha256";
    public const int Size = SHA256.HashSizeInBytes;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    /// <summary>The largest leaf (plus its prefix) hashed on the stack; longer ones are rented.</summary>
    private const int StackLimit = 512;

    public static byte[] Empty { get; } = SHA256.HashData(ReadOnlySpan<byte>.Empty);

    public static void Leaf(ReadOnlySpan<byte> leaf, Span<byte> destination)
    {
        var length = leaf.Length + 1;
        var rented = length > StackLimit ? new byte[length] : null;
        var buffer = rented ?? stackalloc byte[StackLimit];
        buffer[0] = LeafPrefix;
        leaf.CopyTo(buffer[1..]);
        SHA256.HashData(buffer[..length], destination);
    }

    public static byte[] Leaf(ReadOnlySpan<byte> leaf)
    {
        var hash = new byte[Size];
        Leaf(leaf, hash);
        return hash;
    }

    public static void Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        Span<byte> buffer = stackalloc byte[1 + 2 * Size];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Size)..]);
        SHA256.HashData(buffer, destination);
    }

    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[Size];
        Node(left, right, hash);
        return hash;
    }
}

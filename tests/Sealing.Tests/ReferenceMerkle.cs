using System.Security.Cryptography;

namespace Voting.Sealing.Tests;

/// <summary>
/// RFC 6962 section 2.1 written as its definitions read, recursively and slowly, with no code shared with the
/// library: the Merkle Tree Hash (MTH) and the audit path (PATH) of a list of leaves.
/// </summary>
internal static class ReferenceMerkle
{
    public static byte[] LeafHash(byte[] leaf) => SHA256.HashData([0x00, .. leaf]);

    public static byte[] Mth(IReadOnlyList<byte[]> leaves)
    {
        if (leaves.Count == 0)
        {
            return SHA256.HashData([]);
        }

        if (leaves.Count == 1)
        {
            return LeafHash(leaves[0]);
        }

        var k = Split(leaves.Count);
        return SHA256.HashData([0x01, .. Mth([.. leaves.Take(k)]), .. Mth([.. leaves.Skip(k)])]);
    }

    public static List<byte[]> Path(int m, IReadOnlyList<byte[]> leaves)
    {
        if (leaves.Count == 1)
        {
            return [];
        }

        var k = Split(leaves.Count);
        return m < k
            ? [.. Path(m, [.. leaves.Take(k)]), Mth([.. leaves.Skip(k)])]
            : [.. Path(m - k, [.. leaves.Skip(k)]), Mth([.. leaves.Take(k)])];
    }

    /// <summary>The largest power of two smaller than <paramref name="n"/> (n > 1).</summary>
    private static int Split(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }
}

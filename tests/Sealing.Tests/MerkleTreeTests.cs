using Voting.Sealing.Merkle;

namespace Voting.Sealing.Tests;

public sealed class MerkleTreeTests
{
    /// <summary>Certificate Transparency's reference leaves (RFC 6962 test data, as in transparency-dev/merkle).</summary>
    private static readonly byte[][] CtLeaves =
        [.. new[] { "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f" }.Select(Convert.FromHexString)];

    /// <summary>The published roots of the first 0..8 reference leaves.</summary>
    private static readonly string[] CtRoots =
    [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    [Fact]
    public void RootsOfTheReferenceLeavesAreThePublishedOnes()
    {
        for (var size = 0; size <= CtLeaves.Length; size++)
        {
            var leaves = CtLeaves[..size];
            Assert.Equal(CtRoots[size], Hex(ReferenceMerkle.Mth(leaves)));
            var builder = new MerkleRootBuilder();
            foreach (var leaf in leaves)
            {
                builder.AddLeaf(leaf);
            }

            Assert.Equal(CtRoots[size], Hex(builder.Root()));
            foreach (var chunkHeight in new[] { 0, 1, 2, 8 })
            {
                Assert.Equal(CtRoots[size], Hex(new MerkleTree(new Leaves(leaves), chunkHeight).Root));
            }
        }
    }

    [Theory]
    [InlineData(0, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e 6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]
    [InlineData(5, 8, "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    [InlineData(2, 3, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]
    public void ProofsOfTheReferenceLeavesAreThePublishedOnes(int index, int size, string path)
    {
        foreach (var chunkHeight in new[] { 0, 1, 2, 8 })
        {
            var tree = new MerkleTree(new Leaves(CtLeaves[..size]), chunkHeight);
            var proof = tree.ProofFor(index);
            Assert.Equal(path.Split(' '), proof.Path.Select(Hex));
            Assert.True(proof.Verifies(ReferenceMerkle.LeafHash(CtLeaves[index]), Convert.FromHexString(CtRoots[size])));
        }
    }

    [Fact]
    public void EveryTreeShapeHasTheReferenceRootAndPaths()
    {
        var leaves = Enumerable.Range(0, 70).Select(i => new[] { (byte)i, (byte)(i * 7) }).ToArray();
        for (var size = 1; size <= leaves.Length; size++)
        {
            var some = leaves[..size];
            var root = ReferenceMerkle.Mth(some);
            foreach (var chunkHeight in new[] { 0, 1, 2, 3, 8 })
            {
                var tree = new MerkleTree(new Leaves(some), chunkHeight);
                Assert.Equal(Hex(root), Hex(tree.Root));
                for (var index = 0; index < size; index++)
                {
                    var proof = tree.ProofFor(index);
                    Assert.Equal(ReferenceMerkle.Path(index, some).Select(Hex), proof.Path.Select(Hex));
                    Assert.True(proof.Verifies(ReferenceMerkle.LeafHash(some[index]), root), $"size {size}, leaf {index}");
                }
            }
        }
    }

    [Fact]
    public void AProofVerifiesForItsOwnLeafPlaceAndRootOnly()
    {
        var leaves = Enumerable.Range(0, 13).Select(i => new[] { (byte)i }).ToArray();
        var tree = new MerkleTree(new Leaves(leaves), chunkHeight: 2);
        var proof = tree.ProofFor(6);
        var leaf = ReferenceMerkle.LeafHash(leaves[6]);
        Assert.True(proof.Verifies(leaf, tree.Root));

        Assert.False(proof.Verifies(ReferenceMerkle.LeafHash(leaves[7]), tree.Root));
        Assert.False((proof with { LeafIndex = 7 }).Verifies(leaf, tree.Root));
        // A size whose tree puts leaf 6 elsewhere (the last of seven: another path); the size itself is the root's to bind.
        Assert.False((proof with { TreeSize = 7 }).Verifies(leaf, tree.Root));
        Assert.False((proof with { TreeSize = 6 }).Verifies(leaf, tree.Root));
        Assert.False((proof with { Path = proof.Path.Take(proof.Path.Count - 1).ToArray() }).Verifies(leaf, tree.Root));
        Assert.False((proof with { Path = [.. proof.Path, tree.Root] }).Verifies(leaf, tree.Root));
        var changed = proof.Path.Select(p => p.ToArray()).ToArray();
        changed[1][0] ^= 1;
        Assert.False((proof with { Path = changed }).Verifies(leaf, tree.Root));
        var otherRoot = tree.Root.ToArray();
        otherRoot[^1] ^= 1;
        Assert.False(proof.Verifies(leaf, otherRoot));
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private sealed class Leaves(byte[][] leaves) : IMerkleLeaves
    {
        public int Count => leaves.Length;

        public void HashLeaf(int index, Span<byte> destination) => MerkleHash.Leaf(leaves[index], destination);
    }
}

using System.Security.Cryptography;
using System.Text;
using Voting.Sealing.Manifest;
using Voting.Testing;

namespace Voting.Sealing.Tests;

public sealed class ManifestTests
{
    private static readonly SealManifest Manifest = new(
        "superbowl-2026", "Cats or dogs?", TestSeals.Poll.OpenedAt, TestSeals.Poll.ClosedAt, TestSeals.SealedAt,
        ["cats", "dogs"], [1, 2], 3, [KeyValuePair.Create("frontend01", 2L), KeyValuePair.Create("frontend02", 1L)], 3,
        new string('a', 64), new string('b', 64));

    [Fact]
    public void TheSignedBytesAreTheManifestInItsFixedOrderWithoutWhitespace()
    {
        Assert.Equal(
            "{\"format\":\"voting-seal-v1\",\"pollId\":\"superbowl-2026\",\"pollName\":\"Cats or dogs?\","
            + "\"openedAt\":\"2026-02-08T23:00:00.000Z\",\"closedAt\":\"2026-02-09T01:00:00.000Z\",\"sealedAt\":\"2026-02-09T01:05:00.123Z\","
            + "\"options\":[\"cats\",\"dogs\"],\"tallies\":{\"cats\":1,\"dogs\":2},\"total\":3,\"frontends\":{\"frontend01\":2,\"frontend02\":1},"
            + $"\"ballots\":3,\"leaf\":\"ballot-line-v1\",\"tree\":\"rfc6962-sha256\",\"merkleRoot\":\"{new string('a', 64)}\",\"ballotsSha256\":\"{new string('b', 64)}\"}}",
            Encoding.UTF8.GetString(ManifestJson.SignedBytes(Manifest)));
    }

    [Fact]
    public void TheSignatureIsTheLastMemberAndCoversTheRest()
    {
        using var key = TestSeals.NewSigningKey();
        var signedBytes = ManifestJson.SignedBytes(Manifest);
        var file = ManifestJson.WithSignature(signedBytes, key.Sign(signedBytes));

        Assert.True(ManifestJson.TrySplit(file, out var split, out var signature, out _));
        Assert.Equal(signedBytes, split);
        Assert.Equal(64, signature.Length);
        using var publicKey = ECDsa.Create();
        publicKey.ImportFromPem(key.PublicKeyPem);
        Assert.True(publicKey.VerifyData(split, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.Equivalent(Manifest, ManifestJson.Parse(split));
    }

    [Fact]
    public void ASigningKeyThatIsNotAP256PrivateKeyNamesTheSetting()
    {
        var directory = TestDirectories.Create("keys");
        string Write(string name, string text)
        {
            var path = Path.Combine(directory, name);
            File.WriteAllText(path, text);
            return path;
        }

        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa = RSA.Create(2048);
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        foreach (var path in new[]
        {
            (string?)null,
            Path.Combine(directory, "missing.key"),
            Write("garbage.key", "not a key"),
            Write("p384.key", p384.ExportPkcs8PrivateKeyPem()),
            Write("rsa.key", rsa.ExportPkcs8PrivateKeyPem()),
            Write("public.key", p256.ExportSubjectPublicKeyInfoPem()),
        })
        {
            var error = Assert.Throws<SealingSettingException>(() => SealSigningKey.FromPemFile(path, "Poll:SigningKeyPath"));
            Assert.StartsWith("Poll:SigningKeyPath", error.Message, StringComparison.Ordinal);
        }

        using var good = SealSigningKey.FromPemFile(Write("p256.key", p256.ExportPkcs8PrivateKeyPem()), "Poll:SigningKeyPath");
        Assert.Equal(p256.ExportSubjectPublicKeyInfoPem() + "\n", good.PublicKeyPem);
    }
}

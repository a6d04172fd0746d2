using System.Security.Cryptography;
using Voting.Sealing.Manifest;

namespace Voting.Sealing.Verification;

/// <summary>
/// Checks a manifest's signature with a published public key (public-key.pem): what <see cref="ExportVerifier"/> does
/// for an export, and what a receipt's checker does with the manifest and key the results app publishes.
/// </summary>
public static class ManifestSignature
{
    /// <summary>Null when <paramref name="signature"/> over <paramref name="signedBytes"/> verifies with the key; else why not.</summary>
    public static string? Problem(byte[] signedBytes, byte[] signature, string publicKeyPem)
    {
        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(publicKeyPem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return $"public-key.pem is not an EC public key in PEM ({e.Message})";
        }

        if (!SealSigningKey.IsP256(key))
        {
            return "public-key.pem is not a P-256 key";
        }

        return key.VerifyData(signedBytes, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            ? null
            : "the signature of manifest.json does not verify with public-key.pem: the manifest was changed, or signed with another key";
    }
}

using System.Security.Cryptography;

namespace Voting.Sealing.Manifest;

/// <summary>
/// The key that signs manifests: ECDSA on P-256 with SHA-256, the signature in IEEE P1363 form (r || s, 64 bytes),
/// which browsers' WebCrypto verify as they are. Read from a PKCS#8 PEM file that is a secret
/// (<c>Poll:SigningKeyPath</c>); its public key is published as SPKI PEM (public-key.pem).
/// </summary>
public sealed class SealSigningKey : IDisposable
{
    /// <summary>The OID of NIST P-256 (secp256r1).</summary>
    public const string P256 = "1.2.840.10045.3.1.7";

    private readonly ECDsa _key;

    private SealSigningKey(ECDsa key)
    {
        _key = key;
        PublicKeyPem = key.ExportSubjectPublicKeyInfoPem() + "\n";
    }

    /// <summary>The public key, SPKI PEM with a final line end: public-key.pem.</summary>
    public string PublicKeyPem { get; }

    /// <summary>The key in <paramref name="path"/>, or the reason it is not a P-256 private key (naming <paramref name="setting"/>).</summary>
    public static SealSigningKey FromPemFile(string? path, string setting)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new SealingSettingException($"{setting} is missing: the path of a PKCS#8 PEM file holding an EC P-256 private key.");
        }

        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SealingSettingException($"{setting}: {path} cannot be read: {e.Message}");
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (!IsP256(key))
            {
                throw new SealingSettingException($"{setting}: {path} holds an EC key that is not on P-256.");
            }

            // A public key imports too; only a private key signs.
            _ = key.ExportParameters(includePrivateParameters: true);
            return new SealSigningKey(key);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new SealingSettingException($"{setting}: {path} is not a PKCS#8 PEM EC P-256 private key ({e.Message}).");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>A new P-256 private key as PKCS#8 PEM (for <c>./voting up</c> and the tests).</summary>
    public static string CreatePem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    /// <summary>Whether <paramref name="key"/> is on P-256.</summary>
    public static bool IsP256(ECDsa key) => key.ExportParameters(includePrivateParameters: false).Curve.Oid.Value == P256;

    public byte[] Sign(byte[] data) => _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose() => _key.Dispose();
}

using Voting.Sealing.Manifest;
using Voting.Sealing.Verification;

namespace Voting.LoadGen.Receipts;

/// <summary>
/// The seal as the results app publishes it (<c>/api/results/final/manifest.json</c> and <c>public-key.pem</c>), its
/// signature verified with the published key: the root every receipt's proof must lead to.
/// </summary>
public sealed class PublishedSeal
{
    private PublishedSeal(SealManifest manifest) => Manifest = manifest;

    public SealManifest Manifest { get; }

    /// <summary>The manifest from its file's bytes, once its signature verifies with <paramref name="publicKeyPem"/>.</summary>
    /// <exception cref="FormatException">The manifest is not one, or its signature does not verify; the message says which.</exception>
    public static PublishedSeal Verify(byte[] manifestFile, string publicKeyPem)
    {
        if (!ManifestJson.TrySplit(manifestFile, out var signedBytes, out var signature, out var problem))
        {
            throw new FormatException(problem);
        }

        if (ManifestSignature.Problem(signedBytes, signature, publicKeyPem) is { } invalid)
        {
            throw new FormatException(invalid);
        }

        try
        {
            return new PublishedSeal(ManifestJson.Parse(signedBytes));
        }
        catch (ManifestFormatException e)
        {
            throw new FormatException(e.Message, e);
        }
    }
}

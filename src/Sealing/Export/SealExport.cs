using System.Security.Cryptography;
using Voting.Sealing.Ballots;

namespace Voting.Sealing.Export;

/// <summary>
/// The export of a seal: a directory holding manifest.json (the signed manifest), ballots.csv and public-key.pem.
/// Anyone can check it with nothing else (<c>./voting verify DIR</c>, docs/SEALING.md).
/// </summary>
public static class SealExport
{
    public const string ManifestFile = "manifest.json";
    public const string PublicKeyFile = "public-key.pem";

    /// <summary>
    /// Writes the three files into <paramref name="directory"/> (made if missing), the ballots streamed to the file.
    /// The ballots must be the ones the manifest was made from: their SHA-256 is checked against
    /// <paramref name="ballotsSha256"/> before the manifest is written, so a directory never holds a mismatched pair.
    /// </summary>
    public static async Task WriteAsync(
        string directory, byte[] manifest, BallotSet ballots, string ballotsSha256, string publicKeyPem, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        byte[] hash;
        await using (var file = new FileStream(Path.Combine(directory, BallotsCsv.FileName), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            hash = await BallotsCsv.WriteAsync(ballots, file, cancellationToken);
        }

        if (!CryptographicOperations.FixedTimeEquals(hash, Convert.FromHexString(ballotsSha256)))
        {
            throw new SealingException("the ballots written differ from the ones the manifest was made from");
        }

        await File.WriteAllBytesAsync(Path.Combine(directory, ManifestFile), manifest, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, PublicKeyFile), publicKeyPem, cancellationToken);
    }
}

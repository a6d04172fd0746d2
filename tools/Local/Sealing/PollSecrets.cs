using System.Security.Cryptography;

namespace Voting.Local.Sealing;

/// <summary>
/// The poll's two secrets for sealing, kept in files readable by their owner only: the manifest's signing key (an EC
/// P-256 private key, PKCS#8 PEM: <c>Poll:SigningKeyPath</c>) and the pseudonym key (32 random bytes, base64:
/// <c>Poll:PseudonymKey</c>). <c>./voting up</c> keeps one pair per system; the tests make their own.
/// </summary>
public sealed record PollSecrets(string SigningKeyPath, string PseudonymKeyPath)
{
    /// <summary>The settings that give a worker both secrets, to seal with.</summary>
    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Poll__SigningKeyPath"] = SigningKeyPath,
        ["Poll__PseudonymKey"] = PseudonymKey,
    };

    /// <summary>The setting that gives a front end the pseudonym key alone, for its receipt codes; it never signs.</summary>
    public IReadOnlyDictionary<string, string?> FrontendSettings => new Dictionary<string, string?>
    {
        ["Poll__PseudonymKey"] = PseudonymKey,
    };

    private string PseudonymKey => File.ReadAllText(PseudonymKeyPath).Trim();

    /// <summary>The secrets kept in <paramref name="directory"/>, each made there first if it is not.</summary>
    public static PollSecrets ReadOrCreate(string directory)
    {
        Directory.CreateDirectory(directory);
        var secrets = new PollSecrets(Path.Combine(directory, "seal-signing.key"), Path.Combine(directory, "pseudonym.key"));
        if (!File.Exists(secrets.SigningKeyPath))
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            WriteOwnerOnly(secrets.SigningKeyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        }

        if (!File.Exists(secrets.PseudonymKeyPath))
        {
            WriteOwnerOnly(secrets.PseudonymKeyPath, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n");
        }

        return secrets;
    }

    /// <summary>Writes a secret readable by its owner only, made so before it holds the secret, and in place at once.</summary>
    private static void WriteOwnerOnly(string path, string secret)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, "");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.WriteAllText(temporary, secret);
        File.Move(temporary, path, overwrite: true);
    }
}

using Voting.Sealing;
using Voting.Sealing.Ballots;
using Voting.Sealing.Manifest;
using Voting.ServiceDefaults.Configuration;
using Voting.ServiceDefaults.Voting;

namespace Voting.Silo.Sealing;

/// <summary>
/// What a worker needs to seal the poll's count (section <c>Poll</c>; the poll's id and name, which the manifest
/// states, are <see cref="PollOptions"/>' as every service reads them): the signing key (<c>Poll:SigningKeyPath</c>, a P-256 private key in PKCS#8 PEM, a secret) and the pseudonym key
/// (<c>Poll:PseudonymKey</c>, base64, a secret), and how long after the close votes a front end acknowledged may still
/// be on their way into its stream (<c>Poll:SealGrace</c>). Without both keys this worker cannot seal, and says so to
/// the operator who asks; with one of them, or a bad one, it does not start.
/// </summary>
public sealed class SealingOptions
{
    public const string SectionName = "Poll";

    public string? SigningKeyPath { get; set; }

    public string? PseudonymKey { get; set; }

    /// <summary>
    /// A vote acknowledged just before the close is appended to its front end's Redis before the front end answers;
    /// a seal waits this long after the close, so that no such append is still under way when the drain is verified.
    /// Longer than a front end's Redis timeout (<c>Frontend:RedisTimeout</c>, 5 s by default).
    /// </summary>
    public TimeSpan SealGrace { get; set; } = TimeSpan.FromSeconds(10);

    public bool Configured => !string.IsNullOrWhiteSpace(SigningKeyPath) || !string.IsNullOrWhiteSpace(PseudonymKey);

    /// <summary>The keys, or null when sealing is not configured; throws naming the setting when one is missing or bad.</summary>
    public (SealSigningKey Signing, PseudonymKey Pseudonyms)? LoadKeys()
    {
        var problems = new List<string>();
        if (SealGrace <= TimeSpan.Zero)
        {
            problems.Add(SettingsValidation.Invalid("Poll:SealGrace", "must be positive."));
        }

        if (!Configured)
        {
            SettingsValidation.ThrowIfAny(SectionName, problems);
            return null;
        }

        SealSigningKey? signing = null;
        PseudonymKey? pseudonyms = null;
        try
        {
            signing = SealSigningKey.FromPemFile(SigningKeyPath, "Poll:SigningKeyPath");
        }
        catch (SealingSettingException e)
        {
            problems.Add(e.Message + " Sealing needs both Poll:SigningKeyPath and Poll:PseudonymKey.");
        }

        try
        {
            pseudonyms = global::Voting.Sealing.Ballots.PseudonymKey.FromBase64(PseudonymKey, "Poll:PseudonymKey");
        }
        catch (SealingSettingException e)
        {
            problems.Add(e.Message + " Sealing needs both Poll:SigningKeyPath and Poll:PseudonymKey.");
        }

        if (problems.Count > 0)
        {
            signing?.Dispose();
        }

        SettingsValidation.ThrowIfAny(SectionName, problems);
        return (signing!, pseudonyms!);
    }
}

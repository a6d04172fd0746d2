namespace Voting.Web.Voting;

/// <summary>The keys behind the forensic hashes each vote carries (section <c>Forensics</c>; see docs/PRIVACY.md).</summary>
public sealed class ForensicsOptions
{
    public const string SectionName = "Forensics";

    /// <summary>
    /// The secret the day's address salt and the User-Agent key are derived from, base64, at least 32 bytes, the same
    /// on every front end (so that the same address hashes alike wherever it voted). Optional: when empty it is derived
    /// from <see cref="VoterCookieOptions.SigningKey"/> (HKDF-SHA256), so existing deployments need nothing new — but
    /// then a rotation of the cookie key changes the hashes from that moment. Give it its own secret in production:
    /// the cookie key can then rotate freely, and destroying this secret after the poll leaves the address hashes with
    /// no key to recompute them.
    /// </summary>
    public string Secret { get; set; } = "";
}

namespace Voting.Web.Abuse;

/// <summary>
/// Section <c>Challenge</c>: whether a new voter identity must first be earned by a proof of work, a small puzzle the
/// vote page's script solves in a second or two and a script minting identities pays for every time.
/// </summary>
public sealed class IdentityChallengeOptions
{
    public const string SectionName = "Challenge";
    public const int MinDifficulty = 1;
    public const int MaxDifficulty = 30;

    /// <summary><c>Off</c> (the default), or <c>ProofOfWork</c>.</summary>
    public IdentityChallengeMode Mode { get; set; } = IdentityChallengeMode.Off;

    /// <summary>
    /// Leading zero bits the SHA-256 of <c>{challenge}:{solution}</c> must have: 2^bits hashes on average, each bit
    /// doubling the cost (16: about 65,000 hashes, well under a second in a phone's browser).
    /// </summary>
    public int Difficulty { get; set; } = 16;

    /// <summary>How long a challenge may be answered after it was issued; each is accepted once.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(2);
}

public enum IdentityChallengeMode
{
    Off,
    ProofOfWork,
}

namespace Voting.Web.Voting;

/// <summary>The signed cookie that identifies a voter (section <c>VoterCookie</c>).</summary>
public sealed class VoterCookieOptions
{
    public const string SectionName = "VoterCookie";

    public string Name { get; set; } = "voter_id";

    /// <summary>
    /// The HMAC-SHA256 key that signs voter ids, base64, at least 32 bytes. Every front end behind the same load
    /// balancer needs the same key: a voter's next request may reach another front end.
    /// </summary>
    public string SigningKey { get; set; } = "";

    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Send the cookie over HTTPS only (turn on behind a TLS-terminating load balancer).</summary>
    public bool Secure { get; set; }
}

using System.Security.Cryptography;

namespace Voting.Web.Voting;

/// <summary>The signed cookie that identifies a voter (section <c>VoterCookie</c>).</summary>
public sealed class VoterCookieOptions
{
    public const string SectionName = "VoterCookie";

    /// <summary>The length of a key id: 8 hexadecimal digits (the first 4 bytes of the key's SHA-256).</summary>
    public const int KeyIdChars = 8;

    /// <summary>The prefix browsers accept only on a <c>Secure</c> cookie with <c>Path=/</c> and no <c>Domain</c>.</summary>
    public const string HostPrefix = "__Host-";

    /// <summary>The cookie's name over plain HTTP; over HTTPS it is <see cref="SecureName"/>.</summary>
    public string Name { get; set; } = "voter_id";

    /// <summary>The cookie's name over HTTPS: <c>__Host-voter_id</c>.</summary>
    public string SecureName => HostPrefix + Name;

    /// <summary>
    /// The HMAC-SHA256 key that signs voter cookies, base64, at least 32 bytes. Every front end behind the same load
    /// balancer needs the same key: a voter's next request may reach another front end. Its key id, written into
    /// every cookie it signs, is derived from it (<see cref="KeyIdOf"/>).
    /// </summary>
    public string SigningKey { get; set; } = "";

    /// <summary>
    /// Keys that signed cookies before <see cref="SigningKey"/> did (base64, at least 32 bytes each; section
    /// <c>VoterCookie:VerifyingKeys:0</c>, <c>:1</c>, ...): a cookie signed with one of them is still accepted, keeps
    /// its voter id, and is signed again with the current key in the answer. Drop a key from the list to stop
    /// accepting the cookies it signed.
    /// </summary>
    public List<string> VerifyingKeys { get; set; } = [];

    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// A key's id: the first 4 bytes of its SHA-256, as 8 lowercase hexadecimal digits
    /// (<c>base64 -d &lt;&lt;&lt; KEY | sha256sum | cut -c1-8</c>). Derived rather than configured, so an id can never be
    /// given to two keys by mistake, and the id says nothing about the key that the cookie's MAC does not already.
    /// </summary>
    public static string KeyIdOf(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key, hash);
        return Convert.ToHexStringLower(hash[..(KeyIdChars / 2)]);
    }

    /// <summary>The bytes of a base64 key, or null when it is not base64.</summary>
    public static byte[]? TryDecodeKey(string? base64)
    {
        if (string.IsNullOrWhiteSpace(base64))
        {
            return null;
        }

        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64.Trim(), buffer, out var written) ? buffer[..written] : null;
    }
}

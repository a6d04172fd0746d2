using System.Security.Cryptography;

namespace Voting.Sealing.Ballots;

/// <summary>
/// The poll's secret for pseudonyms (<c>Poll:PseudonymKey</c>, base64, at least 32 bytes). The pseudonym of a voter is
/// the first 16 bytes of HMAC-SHA256(key, UTF-8 of the voter id in lowercase "D" form): the same in every seal of the
/// poll, and nobody without the key can tell which voter (which cookie) it names.
/// </summary>
public sealed class PseudonymKey
{
    public const int MinimumLength = 32;

    private readonly byte[] _key;

    public PseudonymKey(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinimumLength)
        {
            throw new ArgumentException($"a pseudonym key needs at least {MinimumLength} bytes", nameof(key));
        }

        _key = key.ToArray();
    }

    /// <summary>The key from its setting's base64 text, or the reason it is not one (naming <paramref name="setting"/>).</summary>
    public static PseudonymKey FromBase64(string? text, string setting)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new SealingSettingException($"{setting} is missing: a base64 secret of at least {MinimumLength} bytes.");
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new SealingSettingException($"{setting} is not base64.");
        }

        return key.Length >= MinimumLength
            ? new PseudonymKey(key)
            : throw new SealingSettingException($"{setting} holds {key.Length} bytes; it needs at least {MinimumLength}.");
    }

    public Pseudonym Of(Guid voterId)
    {
        Span<byte> text = stackalloc byte[36];
        voterId.TryFormat(text, out _, "D");
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, text, mac);
        return Pseudonym.FromBytes(mac);
    }
}

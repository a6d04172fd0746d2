using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Voting.Web.Voting;

/// <summary>
/// Issues and checks voter cookies: a random 128-bit voter id and an HMAC of it, <c>{id:32 hex}.{mac:base64url}</c>;
/// once the voter has voted, also the id of their latest vote, <c>{id}.{vote:32 hex}.{mac}</c>, so that the next vote,
/// on whichever front end, is ordered after it (see <see cref="VoteIdGenerator"/>). Both are signed: a voter id can
/// only come from a front end, so nobody can vote under ids they make up, nor push a vote's order around.
/// </summary>
public sealed class VoterCookies
{
    private const int IdChars = 32;
    private const int WithVoteChars = IdChars + 1 + IdChars;
    private const int MacBytes = 16;
    private static readonly int MacChars = Base64Url.GetEncodedLength(MacBytes);

    private readonly VoterCookieOptions _options;
    private readonly byte[] _key;
    private readonly CookieOptions _cookie;

    public VoterCookies(IOptions<VoterCookieOptions> options)
    {
        _options = options.Value;
        _key = Convert.FromBase64String(_options.SigningKey);
        _cookie = new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = _options.Secure,
            MaxAge = _options.MaxAge,
            Path = "/",
            IsEssential = true,
        };
    }

    /// <summary>What the request's voter cookie says.</summary>
    public VoterCookieState Read(HttpRequest request, out Guid voterId) => Read(request, out voterId, out _);

    /// <summary>What the request's voter cookie says, and the voter's latest vote it names (<see cref="Guid.Empty"/>: none).</summary>
    public VoterCookieState Read(HttpRequest request, out Guid voterId, out Guid latestVote)
    {
        voterId = latestVote = Guid.Empty;
        if (!request.Cookies.TryGetValue(_options.Name, out var value) || string.IsNullOrEmpty(value))
        {
            return VoterCookieState.Missing;
        }

        return TryVerify(value, out voterId, out latestVote) ? VoterCookieState.Valid : VoterCookieState.Invalid;
    }

    /// <summary>Gives the response a cookie for a new voter and returns the voter's id.</summary>
    public Guid Issue(HttpResponse response)
    {
        var voterId = Guid.NewGuid(); // 122 random bits from the OS's cryptographic generator
        response.Cookies.Append(_options.Name, Sign(voterId), _cookie);
        return voterId;
    }

    /// <summary>Gives the response the voter's cookie again, now naming <paramref name="latestVote"/>, the vote just recorded.</summary>
    public void Remember(HttpResponse response, Guid voterId, Guid latestVote) =>
        response.Cookies.Append(_options.Name, Sign(voterId, latestVote), _cookie);

    public string Sign(Guid voterId) => Sign(voterId, Guid.Empty);

    public string Sign(Guid voterId, Guid latestVote)
    {
        var signed = latestVote == Guid.Empty ? IdChars : WithVoteChars;
        Span<char> cookie = stackalloc char[WithVoteChars + 1 + MacChars];
        voterId.TryFormat(cookie, out _, "N");
        if (latestVote != Guid.Empty)
        {
            cookie[IdChars] = '.';
            latestVote.TryFormat(cookie[(IdChars + 1)..], out _, "N");
        }

        cookie[signed] = '.';
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(cookie[..signed], mac);
        Base64Url.EncodeToChars(mac[..MacBytes], cookie[(signed + 1)..]);
        return new string(cookie[..(signed + 1 + MacChars)]);
    }

    private bool TryVerify(string value, out Guid voterId, out Guid latestVote)
    {
        voterId = latestVote = Guid.Empty;
        var signed = value.Length - 1 - MacChars;
        if (signed is not (IdChars or WithVoteChars) || value[signed] != '.' || (signed == WithVoteChars && value[IdChars] != '.'))
        {
            return false;
        }

        // TryDecodeFromChars throws on characters outside the alphabet: check first, a forged cookie is not an error.
        var mac = value.AsSpan(signed + 1);
        Span<byte> presented = stackalloc byte[MacBytes];
        if (!Base64Url.IsValid(mac, out var length) || length != MacBytes
            || !Base64Url.TryDecodeFromChars(mac, presented, out var written) || written != MacBytes)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(value.AsSpan(0, signed), expected);
        if (!CryptographicOperations.FixedTimeEquals(expected[..MacBytes], presented))
        {
            return false;
        }

        return Guid.TryParseExact(value.AsSpan(0, IdChars), "N", out voterId)
            && (signed == IdChars || Guid.TryParseExact(value.AsSpan(IdChars + 1, IdChars), "N", out latestVote));
    }

    /// <summary>The MAC of the signed part: the voter id, or the voter id and the latest vote's id.</summary>
    private void Mac(ReadOnlySpan<char> signed, Span<byte> destination)
    {
        Span<byte> ascii = stackalloc byte[WithVoteChars];
        for (var i = 0; i < signed.Length; i++)
        {
            ascii[i] = (byte)signed[i];
        }

        HMACSHA256.HashData(_key, ascii[..signed.Length], destination);
    }
}

public enum VoterCookieState
{
    Missing,
    Invalid,
    Valid,
}

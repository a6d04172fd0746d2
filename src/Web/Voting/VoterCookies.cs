using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Voting.Web.Voting;

/// <summary>
/// Issues and checks voter cookies: a random 128-bit voter id and an HMAC of it, <c>{id:32 hex}.{mac:base64url}</c>.
/// A voter id can only come from a front end, so nobody can vote under ids they make up.
/// </summary>
public sealed class VoterCookies
{
    private const int IdChars = 32;
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
    public VoterCookieState Read(HttpRequest request, out Guid voterId)
    {
        voterId = Guid.Empty;
        if (!request.Cookies.TryGetValue(_options.Name, out var value) || string.IsNullOrEmpty(value))
        {
            return VoterCookieState.Missing;
        }

        return TryVerify(value, out voterId) ? VoterCookieState.Valid : VoterCookieState.Invalid;
    }

    /// <summary>Gives the response a cookie for a new voter and returns the voter's id.</summary>
    public Guid Issue(HttpResponse response)
    {
        var voterId = Guid.NewGuid(); // 122 random bits from the OS's cryptographic generator
        response.Cookies.Append(_options.Name, Sign(voterId), _cookie);
        return voterId;
    }

    public string Sign(Guid voterId)
    {
        Span<char> cookie = stackalloc char[IdChars + 1 + MacChars];
        voterId.TryFormat(cookie, out _, "N");
        cookie[IdChars] = '.';
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(cookie[..IdChars], mac);
        Base64Url.EncodeToChars(mac[..MacBytes], cookie[(IdChars + 1)..]);
        return new string(cookie);
    }

    private bool TryVerify(string value, out Guid voterId)
    {
        voterId = Guid.Empty;
        if (value.Length != IdChars + 1 + MacChars || value[IdChars] != '.')
        {
            return false;
        }

        // TryDecodeFromChars throws on characters outside the alphabet: check first, a forged cookie is not an error.
        var mac = value.AsSpan(IdChars + 1);
        Span<byte> presented = stackalloc byte[MacBytes];
        if (!Base64Url.IsValid(mac, out var length) || length != MacBytes
            || !Base64Url.TryDecodeFromChars(mac, presented, out var written) || written != MacBytes)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(value.AsSpan(0, IdChars), expected);
        if (!CryptographicOperations.FixedTimeEquals(expected[..MacBytes], presented))
        {
            return false;
        }

        return Guid.TryParseExact(value.AsSpan(0, IdChars), "N", out voterId);
    }

    private void Mac(ReadOnlySpan<char> id, Span<byte> destination)
    {
        Span<byte> ascii = stackalloc byte[IdChars];
        for (var i = 0; i < IdChars; i++)
        {
            ascii[i] = (byte)id[i];
        }

        HMACSHA256.HashData(_key, ascii, destination);
    }
}

public enum VoterCookieState
{
    Missing,
    Invalid,
    Valid,
}

using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Voting.Web.Voting;

/// <summary>
/// Issues and checks voter cookies. A cookie carries a random 128-bit voter id, the id of the key that signed it, when
/// the vote page issued the voter id (Unix seconds), and once the voter has voted the id of their latest vote, then an
/// HMAC of all that: <c>{voter:32 hex}.{key id:8 hex}.{issued:10 digits}[.{vote:32 hex}].{mac:base64url}</c>. The
/// voter id comes first, as it always has (the load tool reads it there). The
/// latest vote orders the voter's next vote after it, on whichever front end (see <see cref="VoteIdGenerator"/>); the
/// issue time goes with each vote as forensic data. Everything is signed: a voter id can only come from a front end,
/// so nobody can vote under ids they make up, push a vote's order around or backdate their identity.
/// </summary>
/// <remarks>
/// <para>
/// Key rotation: the key id names which of the configured keys signed the cookie — the current one
/// (<see cref="VoterCookieOptions.SigningKey"/>) or an older one still listed in
/// <see cref="VoterCookieOptions.VerifyingKeys"/>. A cookie an older key signed keeps its voter id, latest vote and
/// issue time, and the answer signs it again with the current key; one whose key is no longer listed is invalid.
/// </para>
/// <para>
/// Cookies from before key ids (<c>{voter}[.{vote}].{mac}</c>, no key id, no issue time) are accepted when any listed
/// key signed them, so a deployment that upgrades keeps its voters; the answer reissues them in the current format,
/// with the issue time unknown (written as zero, read as none). They stop being accepted once the key that signed them
/// is no longer listed.
/// </para>
/// <para>
/// Names: over HTTPS the cookie is <c>__Host-voter_id</c> (<see cref="VoterCookieOptions.SecureName"/>), <c>Secure</c>,
/// for the whole host (<c>Path=/</c>, no <c>Domain</c>): browsers accept a <c>__Host-</c> cookie only like that, so no
/// page of a sibling domain and no plain-HTTP answer can set or overwrite it. Over plain HTTP (only where
/// <c>Edge:RequireHttps</c> is off: <c>./voting up</c> on loopback) it is <c>voter_id</c>. A voter whose cookie still has
/// the plain name arrives over HTTPS (a deployment that turned TLS on) keeps their voter id: the answer sets the
/// <c>__Host-</c> cookie and removes the old one.
/// </para>
/// </remarks>
public sealed class VoterCookies
{
    private const int IdChars = 32;
    private const int KeyIdChars = VoterCookieOptions.KeyIdChars;
    private const int IssuedChars = 10;
    private const int MacBytes = 16;
    private static readonly int MacChars = Base64Url.GetEncodedLength(MacBytes);

    // The signed part, {voter}.{kid}.{issued}[.{vote}], and where each piece starts.
    private const int KeyIdAt = IdChars + 1;
    private const int IssuedAt = KeyIdAt + KeyIdChars + 1;
    private const int VoteAt = IssuedAt + IssuedChars + 1;
    private const int SignedChars = IssuedAt + IssuedChars;
    private const int SignedWithVoteChars = VoteAt + IdChars;

    // The format before key ids: {voter}[.{vote}].
    private const int LegacyChars = IdChars;
    private const int LegacyWithVoteChars = IdChars + 1 + IdChars;

    private const int MaxSignedChars = SignedWithVoteChars;

    private readonly VoterCookieOptions _options;
    private readonly TimeProvider _time;
    private readonly SigningKey _current;

    /// <summary>The current key first, then the verifying keys, in the order configured.</summary>
    private readonly SigningKey[] _keys;

    /// <summary>How the cookie is set over plain HTTP, and over HTTPS.</summary>
    private readonly CookieOptions _plain, _secure;

    public VoterCookies(IOptions<VoterCookieOptions> options, TimeProvider timeProvider)
    {
        _options = options.Value;
        _time = timeProvider;
        _current = SigningKey.From(_options.SigningKey);
        _keys = [_current, .. _options.VerifyingKeys.Select(SigningKey.From)];
        _plain = new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            MaxAge = _options.MaxAge,
            Path = "/",
            IsEssential = true,
        };
        _secure = new CookieOptions(_plain) { Secure = true };
    }

    /// <summary>The id of the key new cookies are signed with.</summary>
    public string CurrentKeyId => _current.Id;

    /// <summary>
    /// What the request's voter cookie says, and (when valid) what it carries. Checked once per request: the
    /// per-client limits read it before the endpoint does, and the answer is kept on the request for the second ask.
    /// </summary>
    public VoterCookieState Read(HttpRequest request, out VoterCookie voter)
    {
        var features = request.HttpContext.Features;
        if (features.Get<ReadCookie>() is { } read && ReferenceEquals(read.By, this))
        {
            voter = read.Voter;
            return read.State;
        }

        voter = default;
        // The __Host- cookie when there is one; else the plain-HTTP name, which a voter from before TLS still has.
        var underPlainName = false;
        if (!request.Cookies.TryGetValue(_options.SecureName, out var value) || string.IsNullOrEmpty(value))
        {
            underPlainName = request.Cookies.TryGetValue(_options.Name, out value) && !string.IsNullOrEmpty(value);
        }

        var state = string.IsNullOrEmpty(value)
            ? VoterCookieState.Missing
            : TryVerify(value, out voter) ? VoterCookieState.Valid : VoterCookieState.Invalid;
        features.Set(new ReadCookie(this, state, voter, underPlainName && request.IsHttps));
        return state;
    }

    /// <summary>
    /// A request's voter cookie as <see cref="Read"/> found it (the request's cookies do not change), and whether it
    /// came under the plain-HTTP name over HTTPS, so that the answer renames it.
    /// </summary>
    private sealed record ReadCookie(VoterCookies By, VoterCookieState State, VoterCookie Voter, bool Rename);

    /// <summary>Gives the response a cookie for a new voter, issued now, and returns the voter's id.</summary>
    public Guid Issue(HttpResponse response)
    {
        var voterId = Guid.NewGuid(); // 122 random bits from the OS's cryptographic generator
        Append(response, Sign(voterId, Guid.Empty, _time.GetUtcNow().UtcDateTime));
        return voterId;
    }

    /// <summary>Gives the response the voter's cookie again, now naming <paramref name="latestVote"/>, the vote just recorded.</summary>
    /// <remarks>Signed with the current key; the voter id and the issue time stay as they were.</remarks>
    public void Remember(HttpResponse response, in VoterCookie voter, Guid latestVote) =>
        Append(response, Sign(voter.VoterId, latestVote, voter.IssuedAt));

    /// <summary>
    /// Sets the cookie under the name for the request's scheme; over HTTPS, a cookie that came under the plain-HTTP
    /// name is removed, so that the voter keeps one cookie.
    /// </summary>
    private void Append(HttpResponse response, string value)
    {
        var request = response.HttpContext.Request;
        if (!request.IsHttps)
        {
            response.Cookies.Append(_options.Name, value, _plain);
            return;
        }

        response.Cookies.Append(_options.SecureName, value, _secure);
        if (ArrivedUnderPlainName(request))
        {
            // Path as it was set; no Max-Age, which browsers would prefer to the removal's past Expires.
            response.Cookies.Delete(_options.Name, new CookieOptions { Path = "/", HttpOnly = true, Secure = true, SameSite = SameSiteMode.Lax });
        }
    }

    private bool ArrivedUnderPlainName(HttpRequest request) =>
        request.HttpContext.Features.Get<ReadCookie>() is { Rename: true } read && ReferenceEquals(read.By, this);

    /// <summary>
    /// Signs the voter's cookie again with the current key when another key signed it (or it predates key ids), so that
    /// the older key can be dropped once returning voters have been seen; and sets it under the <c>__Host-</c> name when
    /// it came under the plain-HTTP one over HTTPS. Returns whether it did.
    /// </summary>
    public bool RenewIfStale(HttpResponse response, in VoterCookie voter)
    {
        if (voter.SignedWithCurrentKey && !ArrivedUnderPlainName(response.HttpContext.Request))
        {
            return false;
        }

        Remember(response, voter, voter.LatestVote);
        return true;
    }

    /// <summary>A cookie for the voter, issued now, naming no vote.</summary>
    public string Sign(Guid voterId) => Sign(voterId, Guid.Empty, _time.GetUtcNow().UtcDateTime);

    /// <summary>
    /// A cookie signed with the current key. <paramref name="issuedAt"/> is kept to the second; null (unknown, for a
    /// cookie from before issue times) is written as zero.
    /// </summary>
    public string Sign(Guid voterId, Guid latestVote, DateTime? issuedAt)
    {
        var signed = latestVote == Guid.Empty ? SignedChars : SignedWithVoteChars;
        Span<char> cookie = stackalloc char[MaxSignedChars + 1 + MacChars];
        voterId.TryFormat(cookie, out _, "N");
        cookie[KeyIdAt - 1] = '.';
        _current.Id.CopyTo(cookie[KeyIdAt..]);
        cookie[IssuedAt - 1] = '.';
        var seconds = issuedAt is { } at ? Math.Max(0, new DateTimeOffset(at, TimeSpan.Zero).ToUnixTimeSeconds()) : 0;
        seconds.TryFormat(cookie.Slice(IssuedAt, IssuedChars), out _, "D10", CultureInfo.InvariantCulture);
        if (latestVote != Guid.Empty)
        {
            cookie[VoteAt - 1] = '.';
            latestVote.TryFormat(cookie[VoteAt..], out _, "N");
        }

        cookie[signed] = '.';
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(_current.Key, cookie[..signed], mac);
        Base64Url.EncodeToChars(mac[..MacBytes], cookie[(signed + 1)..]);
        return new string(cookie[..(signed + 1 + MacChars)]);
    }

    private bool TryVerify(string value, out VoterCookie voter)
    {
        voter = default;
        var signed = value.Length - 1 - MacChars;
        Span<byte> presented = stackalloc byte[MacBytes];
        if (signed < 0 || value[signed] != '.' || !TryReadMac(value.AsSpan(signed + 1), presented))
        {
            return false;
        }

        var text = value.AsSpan(0, signed);
        return signed switch
        {
            SignedChars or SignedWithVoteChars => TryVerifyCurrentFormat(text, presented, out voter),
            LegacyChars or LegacyWithVoteChars => TryVerifyLegacy(text, presented, out voter),
            _ => false,
        };
    }

    /// <summary><c>{voter}.{kid}.{issued}[.{vote}]</c>, signed by the key the key id names.</summary>
    private bool TryVerifyCurrentFormat(ReadOnlySpan<char> signed, ReadOnlySpan<byte> presented, out VoterCookie voter)
    {
        voter = default;
        if (signed[KeyIdAt - 1] != '.' || signed[IssuedAt - 1] != '.' || (signed.Length == SignedWithVoteChars && signed[VoteAt - 1] != '.'))
        {
            return false;
        }

        var key = FindKey(signed.Slice(KeyIdAt, KeyIdChars));
        if (key is null || !MacMatches(key.Key, signed, presented))
        {
            return false;
        }

        var latestVote = Guid.Empty;
        if (!Guid.TryParseExact(signed[..IdChars], "N", out var voterId)
            || !long.TryParse(signed.Slice(IssuedAt, IssuedChars), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || (signed.Length == SignedWithVoteChars && !Guid.TryParseExact(signed.Slice(VoteAt, IdChars), "N", out latestVote)))
        {
            return false;
        }

        DateTime? issuedAt = seconds == 0 ? null : DateTime.UnixEpoch.AddSeconds(seconds);
        voter = new VoterCookie(voterId, latestVote, issuedAt, SignedWithCurrentKey: ReferenceEquals(key, _current));
        return true;
    }

    /// <summary><c>{voter}[.{vote}]</c>, from before key ids: signed by whichever listed key verifies it.</summary>
    private bool TryVerifyLegacy(ReadOnlySpan<char> signed, ReadOnlySpan<byte> presented, out VoterCookie voter)
    {
        voter = default;
        if (signed.Length == LegacyWithVoteChars && signed[IdChars] != '.')
        {
            return false;
        }

        var verified = false;
        foreach (var key in _keys)
        {
            verified |= MacMatches(key.Key, signed, presented);
        }

        if (!verified)
        {
            return false;
        }

        var latestVote = Guid.Empty;
        if (!Guid.TryParseExact(signed[..IdChars], "N", out var voterId)
            || (signed.Length == LegacyWithVoteChars && !Guid.TryParseExact(signed[(IdChars + 1)..], "N", out latestVote)))
        {
            return false;
        }

        voter = new VoterCookie(voterId, latestVote, IssuedAt: null, SignedWithCurrentKey: false);
        return true;
    }

    private SigningKey? FindKey(ReadOnlySpan<char> keyId)
    {
        foreach (var key in _keys)
        {
            if (keyId.SequenceEqual(key.Id))
            {
                return key;
            }
        }

        return null;
    }

    private static bool TryReadMac(ReadOnlySpan<char> mac, Span<byte> presented)
    {
        // TryDecodeFromChars throws on characters outside the alphabet: check first, a forged cookie is not an error.
        return Base64Url.IsValid(mac, out var length) && length == MacBytes
            && Base64Url.TryDecodeFromChars(mac, presented, out var written) && written == MacBytes;
    }

    private static bool MacMatches(byte[] key, ReadOnlySpan<char> signed, ReadOnlySpan<byte> presented)
    {
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(key, signed, expected);
        return CryptographicOperations.FixedTimeEquals(expected[..MacBytes], presented);
    }

    /// <summary>The MAC of the signed part of a cookie (ASCII by construction: only verified lengths reach here).</summary>
    private static void Mac(byte[] key, ReadOnlySpan<char> signed, Span<byte> destination)
    {
        Span<byte> ascii = stackalloc byte[MaxSignedChars];
        for (var i = 0; i < signed.Length; i++)
        {
            ascii[i] = (byte)signed[i];
        }

        HMACSHA256.HashData(key, ascii[..signed.Length], destination);
    }

    /// <summary>A configured key and its id.</summary>
    private sealed record SigningKey(string Id, byte[] Key)
    {
        /// <summary>A key as the settings give it (validated at start-up).</summary>
        public static SigningKey From(string base64)
        {
            var key = VoterCookieOptions.TryDecodeKey(base64) ?? throw new ArgumentException("A voter-cookie key is not base64.", nameof(base64));
            return new SigningKey(VoterCookieOptions.KeyIdOf(key), key);
        }
    }
}

/// <summary>What a valid voter cookie carries.</summary>
/// <param name="VoterId">The voter's id, issued by a front end.</param>
/// <param name="LatestVote">The voter's latest vote, or <see cref="Guid.Empty"/> before the first.</param>
/// <param name="IssuedAt">When the vote page issued the voter id (to the second), or null for a cookie from before issue times.</param>
/// <param name="SignedWithCurrentKey">
/// Whether the current key signed it in the current format; if not, the answer signs it again
/// (<see cref="VoterCookies.RenewIfStale"/>, <see cref="VoterCookies.Remember"/>).
/// </param>
public readonly record struct VoterCookie(Guid VoterId, Guid LatestVote, DateTime? IssuedAt, bool SignedWithCurrentKey);

public enum VoterCookieState
{
    Missing,
    Invalid,
    Valid,
}

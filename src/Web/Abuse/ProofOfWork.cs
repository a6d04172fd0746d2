using System.Numerics;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Voting.Web.Voting;

namespace Voting.Web.Abuse;

/// <summary>What <see cref="ProofOfWork.Verify"/> found.</summary>
public enum ChallengeVerdict
{
    Solved,
    Malformed,
    Forged,
    Expired,
    Unsolved,
    AlreadyUsed,
}

/// <summary>
/// The self-hosted proof of work in front of identity issuance: a challenge <c>pow1.{nonce}.{issued}.{bits}.{mac}</c>,
/// signed by this system (a key derived from the voter-cookie key, so every front end checks what any issued and no
/// state is shared), is solved by a number whose <c>SHA-256("{challenge}:{number}")</c> starts with
/// <c>bits</c> zero bits. It is accepted once, within its lifetime, by the front end it is answered to.
/// </summary>
/// <remarks>
/// A challenge answered to two front ends within its lifetime counts twice: the cost of one solution is shared by
/// at most the number of front ends, and the per-address identity limit still applies to every answer.
/// </remarks>
public sealed class ProofOfWork
{
    private const string Prefix = "pow1";
    private static readonly byte[] KeyPurpose = Encoding.ASCII.GetBytes("Voting.Orleans identity challenge v1");

    private readonly byte[] _key;
    private readonly IdentityChallengeOptions _options;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, long> _used = new(StringComparer.Ordinal);
    private long _nextSweep;

    public ProofOfWork(IOptions<IdentityChallengeOptions> options, IOptions<VoterCookieOptions> cookies, TimeProvider clock)
    {
        _options = options.Value;
        _clock = clock;
        var signing = VoterCookieOptions.TryDecodeKey(cookies.Value.SigningKey) ?? throw new InvalidOperationException("VoterCookie:SigningKey is validated at start-up.");
        _key = HMACSHA256.HashData(signing, KeyPurpose);
    }

    public bool Enabled => _options.Mode == IdentityChallengeMode.ProofOfWork;

    public int Difficulty => _options.Difficulty;

    /// <summary>A new challenge at the configured difficulty.</summary>
    public string Issue()
    {
        var nonce = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        var issued = _clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signed = string.Join('.', Prefix, nonce, issued, _options.Difficulty.ToString(CultureInfo.InvariantCulture));
        return signed + "." + Mac(signed);
    }

    /// <summary>Whether <paramref name="solution"/> solves <paramref name="challenge"/>, which this system issued and nobody has used.</summary>
    public ChallengeVerdict Verify(string? challenge, string? solution)
    {
        var parts = challenge?.Split('.');
        if (parts is not [Prefix, { Length: 22 } nonce, var issuedText, var bitsText, var mac]
            || !long.TryParse(issuedText, NumberStyles.None, CultureInfo.InvariantCulture, out var issued)
            || !int.TryParse(bitsText, NumberStyles.None, CultureInfo.InvariantCulture, out var bits)
            || solution is not { Length: > 0 and <= 20 } || !ulong.TryParse(solution, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return ChallengeVerdict.Malformed;
        }

        var signed = challenge![..challenge!.LastIndexOf('.')];
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(signed)), Encoding.ASCII.GetBytes(mac)))
        {
            return ChallengeVerdict.Forged;
        }

        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var expires = issued + (long)_options.Lifetime.TotalSeconds;
        if (now > expires || issued > now + 5)
        {
            return ChallengeVerdict.Expired;
        }

        // One issued when the difficulty was lower is not enough now.
        if (bits < _options.Difficulty || LeadingZeroBits(SHA256.HashData(Encoding.ASCII.GetBytes(challenge + ":" + solution))) < bits)
        {
            return ChallengeVerdict.Unsolved;
        }

        Sweep(now);
        return _used.TryAdd(nonce, expires) ? ChallengeVerdict.Solved : ChallengeVerdict.AlreadyUsed;
    }

    /// <summary>The leading zero bits of <paramref name="hash"/>.</summary>
    public static int LeadingZeroBits(ReadOnlySpan<byte> hash)
    {
        var bits = 0;
        foreach (var b in hash)
        {
            if (b != 0)
            {
                return bits + BitOperations.LeadingZeroCount((uint)b) - 24;
            }

            bits += 8;
        }

        return bits;
    }

    /// <summary>Forgets used challenges that have expired anyway, at most once a second.</summary>
    private void Sweep(long now)
    {
        var next = Interlocked.Read(ref _nextSweep);
        if (now < next || Interlocked.CompareExchange(ref _nextSweep, now + 1, next) != next)
        {
            return;
        }

        foreach (var (nonce, expires) in _used)
        {
            if (expires < now)
            {
                _used.TryRemove(nonce, out _);
            }
        }
    }

    private string Mac(string signed)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(signed), mac);
        return Base64Url.EncodeToString(mac[..16]);
    }
}

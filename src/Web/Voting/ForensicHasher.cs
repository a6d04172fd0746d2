using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Voting.Storage;

namespace Voting.Web.Voting;

/// <summary>
/// Computes the forensic data a vote carries (<see cref="VoteForensics"/>): keyed, truncated hashes of the client's
/// address prefix and of its User-Agent, so that a stuffing wave can be told apart afterwards without keeping
/// addresses.
/// </summary>
/// <remarks>
/// <para>
/// The address hash is the first 8 bytes of HMAC-SHA256(salt of the day, family || prefix), where the prefix is an
/// IPv4 address's 4 bytes (an IPv4-mapped IPv6 address counts as its IPv4 address) or an IPv6 address's first 8 bytes
/// (its /64: one subscriber's network, which a single client can spread over freely). The salt of a UTC day is
/// HMAC-SHA256(secret, "voting/address-salt/yyyy-MM-dd"); every front end derives the same one, so hashes compare
/// across front ends within a day and not across days. The secret is <see cref="ForensicsOptions.Secret"/>, or else
/// HKDF-SHA256 of the voter-cookie signing key. The User-Agent hash is the first 8 bytes of HMAC-SHA256 under a key
/// derived the same way ("voting/user-agent"), stable across days: a browser's User-Agent is shared by millions and
/// says little alone.
/// </para>
/// <para>
/// Cheap on the accept path: the day's salt is computed once a day; a vote costs two HMACs over a few bytes and no
/// allocation (beyond a rented buffer for a User-Agent over 256 bytes).
/// </para>
/// </remarks>
public sealed class ForensicHasher
{
    private const int HashBytes = sizeof(long);
    private const int StackUserAgentBytes = 256;
    private const byte IPv4Family = 4;
    private const byte IPv6Family = 6;

    private readonly byte[] _secret;
    private readonly byte[] _userAgentKey;
    private DaySalt _salt;

    public ForensicHasher(IOptions<ForensicsOptions> forensics, IOptions<VoterCookieOptions> cookies)
    {
        _secret = VoterCookieOptions.TryDecodeKey(forensics.Value.Secret)
            ?? HKDF.DeriveKey(HashAlgorithmName.SHA256, VoterCookieOptions.TryDecodeKey(cookies.Value.SigningKey)
                ?? throw new ArgumentException("VoterCookie:SigningKey is not base64."), 32, salt: [], info: "voting/forensics"u8.ToArray());
        _userAgentKey = HMACSHA256.HashData(_secret, "voting/user-agent"u8);
        _salt = SaltOf(0);
    }

    /// <summary>The forensic data of a vote cast at <paramref name="at"/> (UTC) by this request's client.</summary>
    public VoteForensics Of(DateTime at, IPAddress? client, string? userAgent, DateTime? identityIssuedAt) =>
        new(AddressHash(at, client), UserAgentHash(userAgent), identityIssuedAt);

    /// <summary>The hash of the client's address prefix under the salt of <paramref name="at"/>'s UTC day; null without an address.</summary>
    public long? AddressHash(DateTime at, IPAddress? client)
    {
        if (client is null)
        {
            return null;
        }

        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }

        Span<byte> input = stackalloc byte[1 + 16];
        int length;
        if (client.AddressFamily == AddressFamily.InterNetwork)
        {
            input[0] = IPv4Family;
            client.TryWriteBytes(input[1..], out var written);
            length = 1 + written;
        }
        else if (client.AddressFamily == AddressFamily.InterNetworkV6)
        {
            input[0] = IPv6Family;
            client.TryWriteBytes(input[1..], out _);
            length = 1 + 8; // the /64
        }
        else
        {
            return null;
        }

        var day = at.Ticks / TimeSpan.TicksPerDay;
        var salt = _salt;
        if (salt.Day != day)
        {
            // Once a day per front end (and harmlessly more than once when two requests cross midnight together).
            _salt = salt = SaltOf(day);
        }

        return Truncated(salt.Key, input[..length]);
    }

    /// <summary>The hash of a User-Agent header; null when there is none.</summary>
    public long? UserAgentHash(string? userAgent)
    {
        if (string.IsNullOrEmpty(userAgent))
        {
            return null;
        }

        var maxBytes = Encoding.UTF8.GetMaxByteCount(userAgent.Length);
        byte[]? rented = null;
        Span<byte> buffer = maxBytes <= StackUserAgentBytes ? stackalloc byte[StackUserAgentBytes] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var written = Encoding.UTF8.GetBytes(userAgent, buffer);
            return Truncated(_userAgentKey, buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static long Truncated(byte[] key, ReadOnlySpan<byte> input)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, input, mac);
        return BinaryPrimitives.ReadInt64BigEndian(mac[..HashBytes]);
    }

    private DaySalt SaltOf(long day)
    {
        var date = new DateTime(day * TimeSpan.TicksPerDay, DateTimeKind.Utc);
        return new DaySalt(day, HMACSHA256.HashData(_secret, Encoding.ASCII.GetBytes("voting/address-salt/" + date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))));
    }

    /// <summary>A UTC day (days since 0001-01-01) and its salt, swapped as one reference.</summary>
    private sealed record DaySalt(long Day, byte[] Key);
}

using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using StackExchange.Redis;
using Voting.Grains;

namespace Voting.Storage.Streams;

/// <summary>
/// The wire format of a vote in a front end's Redis stream: five short, readable fields, so that
/// <c>XRANGE votes - +</c> tells an operator what is waiting, and up to three optional ones with the vote's forensic
/// data (<see cref="VoteForensics"/>): <c>addr</c> and <c>ua</c>, the address and User-Agent hashes as decimal
/// integers, and <c>issued</c>, the identity's issue time in Unix seconds. Entries written before these existed have
/// none of them and still decode.
/// </summary>
public static class VoteStreamEntry
{
    /// <summary>The consumer group every drainer of a stream reads through.</summary>
    public const string ConsumerGroup = "drainers";

    private static readonly RedisValue VoteIdField = "id";
    private static readonly RedisValue VoterIdField = "voter";
    private static readonly RedisValue OptionField = "option";
    private static readonly RedisValue TimestampField = "ts";
    private static readonly RedisValue FrontendField = "fe";
    private static readonly RedisValue AddressHashField = "addr";
    private static readonly RedisValue UserAgentHashField = "ua";
    private static readonly RedisValue IssuedField = "issued";

    private const int RequiredFields = 5;
    private const int OptionalFields = 3;

    /// <summary>A vote's entry without forensic data (as front ends wrote them before it existed).</summary>
    public static NameValueEntry[] Encode(in Vote vote, string frontendId) => Encode(vote, frontendId, VoteForensics.None);

    /// <summary>A vote's entry with the forensic data that is known; a missing part is left out.</summary>
    public static NameValueEntry[] Encode(in Vote vote, string frontendId, in VoteForensics forensics)
    {
        var count = RequiredFields + (forensics.AddressHash.HasValue ? 1 : 0) + (forensics.UserAgentHash.HasValue ? 1 : 0)
            + (forensics.IdentityIssuedAt.HasValue ? 1 : 0);
        var entry = new NameValueEntry[count];
        entry[0] = new(VoteIdField, vote.VoteId.ToString("N"));
        entry[1] = new(VoterIdField, vote.VoterId.ToString("N"));
        entry[2] = new(OptionField, vote.Option);
        entry[3] = new(TimestampField, new DateTimeOffset(vote.Timestamp).ToUnixTimeMilliseconds());
        entry[4] = new(FrontendField, frontendId);
        var next = RequiredFields;
        if (forensics.AddressHash is { } address)
        {
            entry[next++] = new(AddressHashField, address);
        }

        if (forensics.UserAgentHash is { } userAgent)
        {
            entry[next++] = new(UserAgentHashField, userAgent);
        }

        if (forensics.IdentityIssuedAt is { } issued)
        {
            entry[next] = new(IssuedField, new DateTimeOffset(issued, TimeSpan.Zero).ToUnixTimeSeconds());
        }

        return entry;
    }

    private static readonly string[] OptionKeys = [.. Enumerable.Range('a', 26).Select(c => ((char)c).ToString())];
    private static readonly SearchValues<byte> Digits = SearchValues.Create("0123456789"u8);

    /// <summary>The latest timestamp a vote can carry: the last millisecond .NET's <see cref="DateTime"/> holds.</summary>
    private static readonly long MaxTimestamp = new DateTimeOffset(DateTime.MaxValue, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static readonly long MaxIssuedSeconds = MaxTimestamp / 1000;

    /// <summary>
    /// Reads a stream entry back; returns false for an entry that is not a well-formed vote, whatever is wrong with
    /// it, and never throws. A vote has exactly the fields a front end writes, each once: two 32-digit ids, an option
    /// key (one letter <c>a</c>–<c>z</c>, as on every ballot), a millisecond timestamp between the Unix epoch and the
    /// end of year 9999, and the front end's id. Anything else (another program's entry, a truncated or corrupted one)
    /// could not be written to PostgreSQL as a vote, or could be written only as a wrong one.
    /// </summary>
    public static bool TryDecode(StreamEntry entry, out Vote vote) => TryDecode(entry, out vote, out _);

    /// <inheritdoc cref="TryDecode(StreamEntry, out Vote)"/>
    /// <param name="entry">The stream entry.</param>
    /// <param name="vote">The vote, when the entry is one.</param>
    /// <param name="frontendId">
    /// The front end that accepted the vote (its <c>fe</c> field), as Redis sent it: the caller makes it a string, once
    /// for a run of entries from the same front end.
    /// </param>
    public static bool TryDecode(StreamEntry entry, out Vote vote, out RedisValue frontendId) => TryDecode(entry, out vote, out frontendId, out _);

    /// <inheritdoc cref="TryDecode(StreamEntry, out Vote, out RedisValue)"/>
    /// <param name="entry">The stream entry.</param>
    /// <param name="vote">The vote, when the entry is one.</param>
    /// <param name="frontendId">The front end that accepted the vote, as Redis sent it.</param>
    /// <param name="forensics">
    /// The vote's forensic data: what of it the entry has (none for an entry from before it existed). A forensic field
    /// that is present must be well-formed, and appear once, like any other: an entry with a corrupt one is not a vote.
    /// </param>
    public static bool TryDecode(StreamEntry entry, out Vote vote, out RedisValue frontendId, out VoteForensics forensics)
    {
        vote = default;
        frontendId = RedisValue.Null;
        forensics = default;
        if (entry.Values is not { Length: >= RequiredFields and <= RequiredFields + OptionalFields } values)
        {
            return false;
        }

        Guid? voteId = null, voterId = null;
        string? option = null;
        RedisValue? frontend = null;
        long? timestamp = null;
        long? addressHash = null, userAgentHash = null, issued = null;
        foreach (var field in values)
        {
            if (field.Name == VoteIdField && voteId is null && TryParseId(field.Value, out var id))
            {
                voteId = id;
            }
            else if (field.Name == VoterIdField && voterId is null && TryParseId(field.Value, out var voter))
            {
                voterId = voter;
            }
            else if (field.Name == OptionField && option is null && TryParseOptionKey(field.Value, out var key))
            {
                option = key;
            }
            else if (field.Name == TimestampField && timestamp is null && TryParseTimestamp(field.Value, out var ms))
            {
                timestamp = ms;
            }
            else if (field.Name == FrontendField && frontend is null && IsFrontendId(field.Value))
            {
                frontend = field.Value;
            }
            else if (field.Name == AddressHashField && addressHash is null && TryParseHash(field.Value, out var address))
            {
                addressHash = address;
            }
            else if (field.Name == UserAgentHashField && userAgentHash is null && TryParseHash(field.Value, out var userAgent))
            {
                userAgentHash = userAgent;
            }
            else if (field.Name == IssuedField && issued is null && TryParseIssued(field.Value, out var seconds))
            {
                issued = seconds;
            }
            else
            {
                return false;
            }
        }

        if (voteId is null || voterId is null || option is null || timestamp is null || frontend is null)
        {
            return false;
        }

        vote = new Vote(voterId.Value, voteId.Value, DateTime.UnixEpoch.AddMilliseconds(timestamp.Value), option);
        frontendId = frontend.Value;
        forensics = new VoteForensics(addressHash, userAgentHash, issued is { } at ? DateTime.UnixEpoch.AddSeconds(at) : null);
        return true;
    }

    /// <summary>32 hexadecimal digits, read from the bytes Redis sent (no string in between).</summary>
    private static bool TryParseId(RedisValue value, out Guid id)
    {
        var bytes = ((ReadOnlyMemory<byte>)value).Span;
        id = default;
        return bytes.Length == 32 && Utf8Parser.TryParse(bytes, out id, out var consumed, 'N') && consumed == 32;
    }

    /// <summary>One letter <c>a</c>–<c>z</c>, as one of the 26 strings every vote shares.</summary>
    private static bool TryParseOptionKey(RedisValue value, out string key)
    {
        key = "";
        if (((ReadOnlyMemory<byte>)value).Span is [var letter and >= (byte)'a' and <= (byte)'z'])
        {
            key = OptionKeys[letter - 'a'];
            return true;
        }

        return false;
    }

    private static bool TryParseTimestamp(RedisValue value, out long ms)
    {
        ms = 0;
        var bytes = ((ReadOnlyMemory<byte>)value).Span;
        return bytes.Length is > 0 and <= 15 && !bytes.ContainsAnyExcept(Digits)
            && long.TryParse(bytes, NumberStyles.None, CultureInfo.InvariantCulture, out ms) && ms <= MaxTimestamp;
    }

    /// <summary>A 64-bit hash as a decimal integer: an optional minus sign and 1 to 19 digits, nothing else.</summary>
    private static bool TryParseHash(RedisValue value, out long hash)
    {
        hash = 0;
        var bytes = ((ReadOnlyMemory<byte>)value).Span;
        var digits = bytes is [(byte)'-', .. var rest] ? rest : bytes;
        return digits.Length is > 0 and <= 19 && !digits.ContainsAnyExcept(Digits)
            && long.TryParse(bytes, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out hash);
    }

    /// <summary>Unix seconds, digits only, within what a <see cref="DateTime"/> holds.</summary>
    private static bool TryParseIssued(RedisValue value, out long seconds)
    {
        seconds = 0;
        var bytes = ((ReadOnlyMemory<byte>)value).Span;
        return bytes.Length is > 0 and <= 12 && !bytes.ContainsAnyExcept(Digits)
            && long.TryParse(bytes, NumberStyles.None, CultureInfo.InvariantCulture, out seconds) && seconds <= MaxIssuedSeconds;
    }

    /// <summary>A front end's id as the front end's settings allow it: 1 to 64 printable ASCII characters.</summary>
    private static bool IsFrontendId(RedisValue value) =>
        ((ReadOnlyMemory<byte>)value).Span is { Length: > 0 and <= 64 } bytes && !bytes.ContainsAnyExceptInRange((byte)0x21, (byte)0x7e);
}

using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using StackExchange.Redis;
using Voting.Grains;

namespace Voting.Storage.Streams;

/// <summary>
/// The wire format of a vote in a front end's Redis stream: five short, readable fields, so that
/// <c>XRANGE votes - +</c> tells an operator what is waiting.
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

    public static NameValueEntry[] Encode(in Vote vote, string frontendId) =>
    [
        new(VoteIdField, vote.VoteId.ToString("N")),
        new(VoterIdField, vote.VoterId.ToString("N")),
        new(OptionField, vote.Option),
        new(TimestampField, new DateTimeOffset(vote.Timestamp).ToUnixTimeMilliseconds()),
        new(FrontendField, frontendId),
    ];

    private static readonly string[] OptionKeys = [.. Enumerable.Range('a', 26).Select(c => ((char)c).ToString())];
    private static readonly SearchValues<byte> Digits = SearchValues.Create("0123456789"u8);

    /// <summary>The latest timestamp a vote can carry: the last millisecond .NET's <see cref="DateTime"/> holds.</summary>
    private static readonly long MaxTimestamp = new DateTimeOffset(DateTime.MaxValue, TimeSpan.Zero).ToUnixTimeMilliseconds();

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
    public static bool TryDecode(StreamEntry entry, out Vote vote, out RedisValue frontendId)
    {
        vote = default;
        frontendId = RedisValue.Null;
        if (entry.Values is not { Length: 5 } values)
        {
            return false;
        }

        Guid? voteId = null, voterId = null;
        string? option = null;
        RedisValue? frontend = null;
        long? timestamp = null;
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

    /// <summary>A front end's id as the front end's settings allow it: 1 to 64 printable ASCII characters.</summary>
    private static bool IsFrontendId(RedisValue value) =>
        ((ReadOnlyMemory<byte>)value).Span is { Length: > 0 and <= 64 } bytes && !bytes.ContainsAnyExceptInRange((byte)0x21, (byte)0x7e);
}

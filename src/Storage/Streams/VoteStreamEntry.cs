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

    /// <summary>Reads a stream entry back; returns false for an entry that is not a well-formed vote.</summary>
    public static bool TryDecode(StreamEntry entry, out Vote vote)
    {
        vote = default;
        Guid? voteId = null, voterId = null;
        string? option = null;
        long? timestamp = null;
        foreach (var field in entry.Values)
        {
            if (field.Name == VoteIdField && Guid.TryParseExact((string?)field.Value, "N", out var id))
            {
                voteId = id;
            }
            else if (field.Name == VoterIdField && Guid.TryParseExact((string?)field.Value, "N", out var voter))
            {
                voterId = voter;
            }
            else if (field.Name == OptionField && !field.Value.IsNullOrEmpty)
            {
                option = (string?)field.Value;
            }
            else if (field.Name == TimestampField && long.TryParse((string?)field.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                timestamp = ms;
            }
        }

        if (voteId is null || voterId is null || option is null || timestamp is null)
        {
            return false;
        }

        vote = new Vote(voterId.Value, voteId.Value, DateTime.UnixEpoch.AddMilliseconds(timestamp.Value), option);
        return true;
    }
}

namespace Voting.Web.Voting;

/// <summary>
/// Time-ordered vote ids (UUID version 7, RFC 9562) that are strictly increasing within this process: a 48-bit
/// Unix-millisecond timestamp, a 12-bit counter for votes within the same millisecond, and 62 random bits.
/// </summary>
/// <remarks>
/// A voter's votes are ordered by (timestamp, vote id), so a voter who changes their mind twice within one
/// millisecond on one front end still ends with their last choice. If the clock steps back, ids keep increasing from
/// the last one issued. Across front ends, whose clocks may disagree (and whose ids within one millisecond are not
/// ordered among each other), a vote is given an id after the voter's previous vote, which the voter cookie carries:
/// a voter's change always wins over the vote it changes, wherever either was cast.
/// </remarks>
public sealed class VoteIdGenerator(TimeProvider timeProvider)
{
    private const int CounterBits = 12;

    // (milliseconds << CounterBits) | counter of the last id issued.
    private long _last;

    /// <summary>
    /// Returns a new vote id and the timestamp it carries, which is the vote's server timestamp: later than every id
    /// this generator issued and than <paramref name="after"/> (the voter's previous vote, from any front end).
    /// </summary>
    public (Guid VoteId, DateTime Timestamp) Next(Guid after = default)
    {
        var now = Math.Max(timeProvider.GetUtcNow().ToUnixTimeMilliseconds() << CounterBits, Packed(after) + 1);
        long last, next;
        do
        {
            last = Volatile.Read(ref _last);
            next = Math.Max(now, last + 1);
        }
        while (Interlocked.CompareExchange(ref _last, next, last) != last);

        var milliseconds = next >> CounterBits;
        var counter = (int)(next & ((1 << CounterBits) - 1));

        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes[8..]);
        bytes[0] = (byte)(milliseconds >> 40);
        bytes[1] = (byte)(milliseconds >> 32);
        bytes[2] = (byte)(milliseconds >> 24);
        bytes[3] = (byte)(milliseconds >> 16);
        bytes[4] = (byte)(milliseconds >> 8);
        bytes[5] = (byte)milliseconds;
        bytes[6] = (byte)(0x70 | (counter >> 8));
        bytes[7] = (byte)counter;
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);

        return (new Guid(bytes, bigEndian: true), DateTime.UnixEpoch.AddMilliseconds(milliseconds));
    }

    /// <summary>(milliseconds &lt;&lt; CounterBits) | counter of an id of this format; -1 for any other (or no) id.</summary>
    private static long Packed(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        if (bytes[6] >> 4 != 7)
        {
            return -1;
        }

        long milliseconds = 0;
        for (var i = 0; i < 6; i++)
        {
            milliseconds = (milliseconds << 8) | bytes[i];
        }

        return (milliseconds << CounterBits) | ((bytes[6] & 0x0FL) << 8) | bytes[7];
    }
}

namespace Voting.Sealing.Receipts;

/// <summary>
/// The order of one voter's votes, as the votes table keeps the latest: by the UUIDv7's time, then by the id — both at
/// once by comparing the ids' 16 bytes big-endian, as PostgreSQL compares uuids (the time is their first 48 bits).
/// </summary>
public static class VoteOrder
{
    public static int Compare(Guid left, Guid right)
    {
        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        left.TryWriteBytes(a, bigEndian: true, out _);
        right.TryWriteBytes(b, bigEndian: true, out _);
        return a.SequenceCompareTo(b);
    }
}

using StackExchange.Redis;
using Voting.Storage.Streams;

namespace Voting.Grains.Draining;

/// <summary>The entries of one read, decoded, and after judgement the ballots that must be written.</summary>
internal sealed class DrainBatch
{
    private DrainBatch(RedisValue[] entryIds, List<Ballot> ballots, List<StreamEntry> malformed)
    {
        EntryIds = entryIds;
        Ballots = ballots;
        Malformed = malformed;
        ToWrite = ballots;
    }

    /// <summary>Every entry id of the read, to acknowledge once the batch is committed.</summary>
    public RedisValue[] EntryIds { get; }

    public IReadOnlyList<Ballot> Ballots { get; }

    /// <summary>Entries that are not well-formed votes.</summary>
    public IReadOnlyList<StreamEntry> Malformed { get; }

    /// <summary>The ballots the shards did not drop.</summary>
    public IReadOnlyList<Ballot> ToWrite { get; private set; }

    public static DrainBatch Decode(StreamEntry[] entries)
    {
        var ids = new RedisValue[entries.Length];
        var ballots = new List<Ballot>(entries.Length);
        var malformed = new List<StreamEntry>();
        for (var i = 0; i < entries.Length; i++)
        {
            ids[i] = entries[i].Id;
            if (VoteStreamEntry.TryDecode(entries[i], out var ballot))
            {
                ballots.Add(ballot);
            }
            else
            {
                malformed.Add(entries[i]);
            }
        }

        return new DrainBatch(ids, ballots, malformed);
    }

    public void Keep(bool[] keep)
    {
        var toWrite = new List<Ballot>(Ballots.Count);
        for (var i = 0; i < keep.Length; i++)
        {
            if (keep[i])
            {
                toWrite.Add(Ballots[i]);
            }
        }

        ToWrite = toWrite;
    }
}

using StackExchange.Redis;
using Voting.Storage;
using Voting.Storage.Streams;

namespace Voting.Grains.Draining;

/// <summary>The entries of one read, decoded, and after judgement the votes that must be written.</summary>
internal sealed class DrainBatch
{
    private DrainBatch(RedisValue[] entryIds, List<Vote> votes, List<string> frontends, List<VoteForensics> forensics, List<StreamEntry> malformed)
    {
        EntryIds = entryIds;
        Votes = votes;
        Frontends = frontends;
        Forensics = forensics;
        Malformed = malformed;
        ToWrite = votes;
        ToWriteFrontends = frontends;
        ToWriteForensics = forensics;
    }

    /// <summary>Every entry id of the read, to acknowledge once the batch is committed.</summary>
    public RedisValue[] EntryIds { get; }

    public IReadOnlyList<Vote> Votes { get; }

    /// <summary>For each of <see cref="Votes"/>, the front end it entered through (the entry's own <c>fe</c>).</summary>
    public IReadOnlyList<string> Frontends { get; }

    /// <summary>
    /// For each of <see cref="Votes"/>, its forensic data as the entry has it. Kept beside the votes rather than in
    /// them: the voter-identity shards, which every vote visits, have no use for it.
    /// </summary>
    public IReadOnlyList<VoteForensics> Forensics { get; }

    /// <summary>Entries that are not well-formed votes.</summary>
    public IReadOnlyList<StreamEntry> Malformed { get; }

    /// <summary>The votes to write: all of them, but for those a later vote of the same voter in this batch replaces.</summary>
    public IReadOnlyList<Vote> ToWrite { get; private set; }

    /// <summary>For each of <see cref="ToWrite"/>, the front end it entered through.</summary>
    public IReadOnlyList<string> ToWriteFrontends { get; private set; }

    /// <summary>For each of <see cref="ToWrite"/>, its forensic data.</summary>
    public IReadOnlyList<VoteForensics> ToWriteForensics { get; private set; }

    public static DrainBatch Decode(StreamEntry[] entries)
    {
        var ids = new RedisValue[entries.Length];
        var votes = new List<Vote>(entries.Length);
        var frontends = new List<string>(entries.Length);
        var forensics = new List<VoteForensics>(entries.Length);
        var malformed = new List<StreamEntry>();
        // A stream's entries nearly all name the same front end: one string for a run of them.
        (RedisValue Bytes, string Text) frontend = (RedisValue.Null, "");
        for (var i = 0; i < entries.Length; i++)
        {
            ids[i] = entries[i].Id;
            if (VoteStreamEntry.TryDecode(entries[i], out var vote, out var frontendId, out var voteForensics))
            {
                if (frontendId != frontend.Bytes)
                {
                    frontend = (frontendId, frontendId.ToString());
                }

                votes.Add(vote);
                frontends.Add(frontend.Text);
                forensics.Add(voteForensics);
            }
            else
            {
                malformed.Add(entries[i]);
            }
        }

        return new DrainBatch(ids, votes, frontends, forensics, malformed);
    }

    public void Keep(bool[] keep)
    {
        var toWrite = new List<Vote>(Votes.Count);
        var frontends = new List<string>(Votes.Count);
        var forensics = new List<VoteForensics>(Votes.Count);
        for (var i = 0; i < keep.Length; i++)
        {
            if (keep[i])
            {
                toWrite.Add(Votes[i]);
                frontends.Add(Frontends[i]);
                forensics.Add(Forensics[i]);
            }
        }

        ToWrite = toWrite;
        ToWriteFrontends = frontends;
        ToWriteForensics = forensics;
    }
}

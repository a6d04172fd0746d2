namespace Voting.Grains;

/// <summary>What a voter-identity shard decided about one vote.</summary>
[GenerateSerializer, Alias("Voting.Verdict")]
public enum Verdict : byte
{
    /// <summary>The first vote the shard has seen from this voter: write it.</summary>
    New = 0,

    /// <summary>Later than the voter's accepted vote, for another option: write it.</summary>
    Changed = 1,

    /// <summary>
    /// Later than the voter's accepted vote, for the same option. It is still written: PostgreSQL must learn the
    /// newer timestamp, or an older vote for another option that arrives after this shard lost its memory would win.
    /// </summary>
    Unchanged = 2,

    /// <summary>
    /// Older than the voter's accepted vote, which came in an earlier batch: still written. The accepted vote may not
    /// have committed, and may never (its entry lost with its Redis' last second, its front end retired with force);
    /// PostgreSQL keeps whichever of the two is later.
    /// </summary>
    Superseded = 3,

    /// <summary>The very vote the shard accepted before, delivered again: written again, as the first write may not have committed.</summary>
    Redelivered = 4,

    /// <summary>
    /// Older than another vote of the same voter in the same batch: left out, since the later one is committed (or
    /// lost) with it, in the same statement and the same acknowledgement.
    /// </summary>
    SupersededInBatch = 5,
}

public static class VerdictExtensions
{
    /// <summary>
    /// Whether the vote must reach PostgreSQL: every vote does, except one that a later vote of the same voter in the
    /// same batch replaces.
    /// </summary>
    public static bool MustBeWritten(this Verdict verdict) => verdict != Verdict.SupersededInBatch;
}

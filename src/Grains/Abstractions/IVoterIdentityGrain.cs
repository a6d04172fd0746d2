namespace Voting.Grains;

/// <summary>
/// One shard of the voter-id space: the point where all votes of its voters are judged.
/// Keyed by the shard number (see <see cref="VoterShards"/>).
/// </summary>
/// <remarks>
/// The shard is not a judge of what is counted: it keeps the latest accepted vote of its voters in a bounded in-memory
/// map to say what each vote is (new, changed, unchanged, superseded, redelivered), and keeps one vote per voter
/// within a batch. Every other vote is written, and PostgreSQL's upsert keeps the latest. A shard that forgets
/// (eviction, deactivation, silo death) changes only the verdicts it reports.
/// </remarks>
[Alias("Voting.IVoterIdentityGrain")]
public interface IVoterIdentityGrain : IGrainWithIntegerKey
{
    /// <summary>Judges the votes, in order; the result has one verdict per vote, at the same index.</summary>
    [Alias("Judge")]
    Task<Verdict[]> JudgeAsync(VoteBatch batch);
}

/// <summary>The votes of one drained batch that belong to one shard, in stream order.</summary>
/// <remarks>Immutable by contract: the sender never touches the array after the call.</remarks>
[GenerateSerializer, Immutable, Alias("Voting.VoteBatch")]
public sealed record VoteBatch([property: Id(0)] Vote[] Votes);

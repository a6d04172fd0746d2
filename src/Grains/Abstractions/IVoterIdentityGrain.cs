namespace Voting.Grains;

/// <summary>
/// One shard of the voter-id space: the point where all votes of its voters are serialised and judged.
/// Keyed by the shard number (see <see cref="VoterShards"/>).
/// </summary>
/// <remarks>
/// The shard is a fast filter, not the final judge: it keeps the latest accepted vote of its voters in a bounded
/// in-memory map and PostgreSQL's upsert re-checks the order. A shard that forgets (eviction, deactivation, silo
/// death) only causes extra writes.
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

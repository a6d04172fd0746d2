namespace Voting.Grains;

/// <summary>One vote as the worker tier sees it: who voted, for what, and where it sits in time.</summary>
/// <remarks>
/// Votes of one voter are ordered by (<see cref="Timestamp"/>, <see cref="VoteId"/>); the latest wins.
/// Vote ids are time-ordered UUIDs, so the order is total even when two votes share a millisecond.
/// </remarks>
[GenerateSerializer, Immutable, Alias("Voting.Vote")]
public readonly record struct Vote(
    [property: Id(0)] Guid VoterId,
    [property: Id(1)] Guid VoteId,
    [property: Id(2)] DateTime Timestamp,
    [property: Id(3)] string Option)
{
    /// <summary>True when this vote was cast after <paramref name="other"/>.</summary>
    public bool IsLaterThan(Vote other) => IsLaterThan(other.Timestamp, other.VoteId);

    /// <summary>True when this vote was cast after the vote with the given timestamp and id.</summary>
    public bool IsLaterThan(DateTime timestamp, Guid voteId) =>
        Timestamp != timestamp ? Timestamp > timestamp : VoteId.CompareTo(voteId) > 0;
}

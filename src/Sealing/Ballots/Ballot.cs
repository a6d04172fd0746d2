namespace Voting.Sealing.Ballots;

/// <summary>
/// A counted ballot as it is published: the voter's pseudonym, their option, the vote's id, and the front end that
/// accepted it (for the count per front end; it is no part of the Merkle leaf, see <see cref="BallotLine"/>).
/// </summary>
public readonly record struct Ballot(Pseudonym Pseudonym, string Option, Guid VoteId, string FrontendId);

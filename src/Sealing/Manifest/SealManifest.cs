using Voting.Sealing.Ballots;
using Voting.Sealing.Merkle;

namespace Voting.Sealing.Manifest;

/// <summary>
/// What a seal states about a closed poll (manifest.json, docs/SEALING.md): the poll, its times, the count, and the
/// Merkle root over every counted ballot, with the rules that make the root and the ballots file's SHA-256.
/// </summary>
/// <param name="PollId">The poll's id.</param>
/// <param name="PollName">The poll's name (its question).</param>
/// <param name="OpenedAt">When the poll opened; null: it was open from the start (no opening time was set).</param>
/// <param name="ClosedAt">When it closed: votes the front ends stamped before this are counted.</param>
/// <param name="SealedAt">When the first seal was made (later seals return it unchanged).</param>
/// <param name="Options">The poll's options, in its order.</param>
/// <param name="Tallies">The ballots per option, in <paramref name="Options"/>' order.</param>
/// <param name="Total">The tallies' sum.</param>
/// <param name="Frontends">The ballots per front end that accepted them, front end ids in ordinal order.</param>
/// <param name="Ballots">The number of ballots (records of ballots.csv): one per voter, so the total again.</param>
/// <param name="MerkleRoot">The RFC 6962 root, 64 lowercase hex digits.</param>
/// <param name="BallotsSha256">SHA-256 of ballots.csv's bytes, 64 lowercase hex digits.</param>
public sealed record SealManifest(
    string PollId,
    string PollName,
    DateTimeOffset? OpenedAt,
    DateTimeOffset ClosedAt,
    DateTimeOffset SealedAt,
    IReadOnlyList<string> Options,
    IReadOnlyList<long> Tallies,
    long Total,
    IReadOnlyList<KeyValuePair<string, long>> Frontends,
    long Ballots,
    string MerkleRoot,
    string BallotsSha256)
{
    public const string CurrentFormat = "voting-seal-v1";

    public string Format { get; init; } = CurrentFormat;

    public string Leaf { get; init; } = BallotLine.Rule;

    public string Tree { get; init; } = MerkleHash.Rule;
}

namespace Voting.Sealing;

/// <summary>What the poll's lifecycle knows of a closed poll, and the manifest states: its id, name, times (no opening time: open from the start) and options.</summary>
public sealed record PollFacts(string Id, string Name, DateTimeOffset? OpenedAt, DateTimeOffset ClosedAt, IReadOnlyList<string> Options);

namespace Voting.Sealing;

/// <summary>The ballots cannot be sealed as they are (the message says why): an unknown option, a voter twice.</summary>
public sealed class SealingException(string message) : Exception(message);

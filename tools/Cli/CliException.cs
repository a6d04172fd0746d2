namespace Voting.Cli;

/// <summary>A command could not do what was asked; the message says why, and the command exits with 1.</summary>
internal sealed class CliException(string message) : Exception(message);

namespace Voting.Sealing;

/// <summary>A sealing setting is missing or wrong; the message names it. Hosts fail at start-up with it.</summary>
public sealed class SealingSettingException(string message) : Exception(message);

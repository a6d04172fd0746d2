using Voting.Sealing.Ballots;
using Voting.Sealing.Merkle;

namespace Voting.Sealing.Receipts;

/// <summary>What a receipt finds in a seal (docs/SEALING.md, "A voter's receipt").</summary>
public enum ReceiptStatus
{
    /// <summary>The receipt's vote is the voter's counted ballot.</summary>
    Included,

    /// <summary>The voter's counted ballot is a later vote than the receipt's.</summary>
    Superseded,

    /// <summary>The voter's counted ballot is an earlier vote than the receipt's: the receipt's vote was lost.</summary>
    NotCounted,

    /// <summary>No ballot has the receipt's code, or the vote id is another code's ballot.</summary>
    NotFound,

    /// <summary>More than one ballot begins with the code and none has the vote id: the voter's cannot be told apart.</summary>
    Ambiguous,
}

/// <summary>A receipt's answer: its status, and for a counted ballot (included, superseded) that ballot and its proof.</summary>
public sealed record ReceiptLookup(ReceiptStatus Status, Ballot? Ballot, InclusionProof? Proof);

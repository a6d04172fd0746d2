using Microsoft.Extensions.Options;
using Voting.Sealing.Ballots;
using Voting.Sealing.Receipts;

namespace Voting.Web.Receipts;

/// <summary>
/// A vote's receipt, for the voter alone: its vote id, and the code of the voter's pseudonym under the poll's key
/// (<see cref="ReceiptCode"/>); null when this front end has no key. It goes into the voter's own answer only — never a
/// log line, a metric or a URL.
/// </summary>
public sealed record Receipt(Guid VoteId, string? Code);

/// <summary>Writes receipts: one HMAC-SHA256 per vote (about a microsecond), after Redis took it.</summary>
public sealed class VoteReceipts(IOptions<ReceiptOptions> options)
{
    private readonly PseudonymKey? _key = options.Value.Key();

    /// <summary>Whether receipts carry a code (<c>Poll:PseudonymKey</c> is set).</summary>
    public bool WithCodes => _key is not null;

    /// <summary>The results app's receipt page, when <c>Poll:ResultsUrl</c> names it.</summary>
    public Uri? ReceiptPage { get; } = options.Value.ReceiptPage();

    public Receipt For(Guid voterId, Guid voteId) => new(voteId, _key is null ? null : ReceiptCode.Of(_key.Of(voterId)).ToString());
}

using Voting.LoadGen.Receipts;
using Voting.Sealing.Receipts;

namespace Voting.LoadGen.Auditing;

/// <summary>
/// What one voter's final row must hold, as far as the answers tell: the option (and, for a JSON vote, the vote id)
/// of their latest acknowledged vote, and the options of votes whose fate is unknown (no answer, or a 5xx that may
/// have come after Redis took the vote), any of which may legitimately be the final row instead.
/// </summary>
/// <param name="VoterId">The voter id: the first 32 hex digits of the voter's cookie.</param>
/// <param name="Option">The option key of the latest acknowledged vote; null when no vote was acknowledged.</param>
/// <param name="VoteId">That vote's id from its receipt; null for a form vote (the page does not show it).</param>
/// <param name="Unconfirmed">Options of votes that may have been recorded without the voter being told.</param>
/// <param name="AcknowledgedVotes">How many of the voter's votes were acknowledged.</param>
public sealed record VoterOutcome(Guid VoterId, string? Option, Guid? VoteId, IReadOnlyList<string> Unconfirmed, int AcknowledgedVotes)
{
    /// <summary>The final row may hold an unconfirmed vote instead of the acknowledged one.</summary>
    public bool Uncertain => Unconfirmed.Count > 0;
}

/// <summary>
/// The ground truth of a load run: per voter, the latest acknowledged vote and the unconfirmed ones. Each voter's
/// entry is written only by that voter's own simulation and read once the load is over.
/// </summary>
public sealed class GroundTruth
{
    private readonly VoterRecord[] _voters;

    public GroundTruth(IReadOnlyList<string> options, int voters)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Count, 32, nameof(options));
        Options = options;
        _voters = new VoterRecord[voters];
        for (var i = 0; i < _voters.Length; i++)
        {
            _voters[i].Option = -1;
        }
    }

    /// <summary>The ballot's option keys, in ballot order.</summary>
    public IReadOnlyList<string> Options { get; }

    /// <summary>Voters that got a voter cookie (the others never voted).</summary>
    public int Voters => _voters.Count(v => v.VoterId != Guid.Empty);

    /// <summary>Voters with at least one acknowledged vote: each must have a row.</summary>
    public int Acknowledged => _voters.Count(v => v.Option >= 0);

    /// <summary>Votes acknowledged, over all voters.</summary>
    public long AcknowledgedVotes => _voters.Sum(v => (long)v.AcknowledgedVotes);

    /// <summary>Voters whose final row may hold an unconfirmed vote.</summary>
    public int Uncertain => _voters.Count(v => v.Unconfirmed != 0);

    /// <summary>
    /// Voters whose receipts order a later-sent vote before an earlier acknowledged one (a front end's clock behind
    /// another's). The receipts' order is the system's rule, so it decides the expected option; this only reports it.
    /// </summary>
    public int ReceiptsOutOfSendOrder => _voters.Count(v => v.ReceiptOutOfOrder);

    /// <summary>Every voter that got a cookie, with what their row must hold.</summary>
    public IEnumerable<VoterOutcome> Outcomes()
    {
        for (var i = 0; i < _voters.Length; i++)
        {
            if (_voters[i].VoterId != Guid.Empty)
            {
                yield return Outcome(in _voters[i]);
            }
        }
    }

    /// <summary>
    /// Every voter's receipts: each acknowledged vote that came with a receipt code, for the receipts check once the
    /// poll is sealed (<see cref="ReceiptCheck"/>), with the client address each voter presented (<paramref name="addressOf"/>
    /// their number), which their lookups present too.
    /// </summary>
    public IEnumerable<VoterReceipts> Receipts(Func<int, string?> addressOf)
    {
        for (var i = 0; i < _voters.Length; i++)
        {
            if (_voters[i].Code is { } code && _voters[i].Receipts is { Count: > 0 } votes)
            {
                yield return new VoterReceipts(i, code, [.. votes.Select(v => new KeptReceipt(v.VoteId, Options[v.Option]))], _voters[i].Unconfirmed != 0, addressOf(i));
            }
        }
    }

    /// <summary>Acknowledged votes that came without a receipt code (a front end without <c>Poll:PseudonymKey</c>, or no vote id).</summary>
    public long VotesWithoutReceipt => _voters.Sum(v => (long)v.AcknowledgedVotes - (v.Receipts?.Count ?? 0));

    /// <summary>Acknowledged voters per option of their latest acknowledged vote.</summary>
    public IReadOnlyDictionary<string, long> ExpectedByOption()
    {
        var counts = Options.ToDictionary(o => o, _ => 0L, StringComparer.Ordinal);
        foreach (ref readonly var voter in _voters.AsSpan())
        {
            if (voter.Option >= 0)
            {
                counts[Options[voter.Option]]++;
            }
        }

        return counts;
    }

    internal void Begin(int index, Guid voterId) => _voters[index].VoterId = voterId;

    /// <summary>A JSON vote's receipt: ordered by (acceptedAt, voteId), as the system orders votes.</summary>
    internal void Acknowledge(int index, int option, Guid voteId, DateTime acceptedAt)
    {
        ref var voter = ref _voters[index];
        voter.AcknowledgedVotes++;
        var ticks = acceptedAt.Ticks;
        if (voter.Option >= 0 && voter.AcceptedAtTicks != 0
            && (ticks < voter.AcceptedAtTicks || (ticks == voter.AcceptedAtTicks && voteId.CompareTo(voter.VoteId) < 0)))
        {
            // Acknowledged before, yet ordered after: only the same option can be in flight at once, so this is
            // either a double submission (harmless) or a change the front ends' clocks put in the wrong order.
            voter.ReceiptOutOfOrder |= voter.Option != option;
            return;
        }

        voter.Option = option;
        voter.VoteId = voteId;
        voter.AcceptedAtTicks = ticks;
    }

    /// <summary>A form vote, confirmed by the page: later than every vote of this voter acknowledged before it was sent.</summary>
    internal void AcknowledgeForm(int index, int option)
    {
        ref var voter = ref _voters[index];
        voter.AcknowledgedVotes++;
        voter.Option = option;
        voter.VoteId = Guid.Empty;
        voter.AcceptedAtTicks = 0;
    }

    /// <summary>An acknowledged vote's receipt; every vote of one voter has the same code.</summary>
    internal void Receipt(int index, int option, Guid voteId, ReceiptCode code)
    {
        ref var voter = ref _voters[index];
        voter.Code = code;
        (voter.Receipts ??= new List<(Guid, int)>(1)).Add((voteId, option));
    }

    /// <summary>A vote that may have been recorded although the voter was not told so.</summary>
    internal void Unconfirmed(int index, int option) => _voters[index].Unconfirmed |= 1u << option;

    internal ReadOnlySpan<VoterRecord> Records => _voters;

    internal VoterOutcome Outcome(in VoterRecord voter)
    {
        var unconfirmed = new List<string>();
        for (var option = 0; option < Options.Count; option++)
        {
            if ((voter.Unconfirmed & (1u << option)) != 0)
            {
                unconfirmed.Add(Options[option]);
            }
        }

        return new VoterOutcome(
            voter.VoterId,
            voter.Option >= 0 ? Options[voter.Option] : null,
            voter.VoteId == Guid.Empty ? null : voter.VoteId,
            unconfirmed,
            voter.AcknowledgedVotes);
    }
}

/// <summary>One voter's entry in the ground truth (a struct: a million voters are one array).</summary>
internal struct VoterRecord
{
    /// <summary>Empty: the voter never got a cookie.</summary>
    public Guid VoterId;

    /// <summary>The latest acknowledged vote's option index; -1 when none was acknowledged.</summary>
    public int Option;

    /// <summary>The latest acknowledged vote's id from its receipt; empty for a form vote.</summary>
    public Guid VoteId;

    /// <summary>The latest acknowledged vote's <c>acceptedAt</c> from its receipt; 0 for a form vote.</summary>
    public long AcceptedAtTicks;

    /// <summary>Bit per option: a vote for it may have been recorded without acknowledgement.</summary>
    public uint Unconfirmed;

    public int AcknowledgedVotes;

    public bool ReceiptOutOfOrder;

    /// <summary>The voter's receipt code (the same on all their votes); null until a vote came with one.</summary>
    public ReceiptCode? Code;

    /// <summary>The acknowledged votes that came with a receipt: vote id and option index; null until one did.</summary>
    public List<(Guid VoteId, int Option)>? Receipts;
}

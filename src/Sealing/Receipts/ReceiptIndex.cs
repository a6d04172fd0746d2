namespace Voting.Sealing.Receipts;

/// <summary>
/// Looks receipts up in a seal. The code names the voter's ballot: the ballots whose pseudonym begins with it lie
/// together in the canonical order, so a binary search finds them (one, but for a 60-bit coincidence). The vote id
/// then says which answer: that ballot's own (included), an earlier vote of the voter's (superseded by the ballot),
/// a later one (not counted). A vote id that is another code's ballot finds nothing, so a vote id with someone else's
/// code says nothing about either; for that, the index keeps the ballots ordered by vote id too (4 bytes a ballot).
/// A voter's votes are ordered as the votes table orders them (<see cref="VoteOrder"/>).
/// </summary>
public sealed class ReceiptIndex
{
    private readonly Seal _seal;
    private readonly int[] _byVoteId;

    public ReceiptIndex(Seal seal)
    {
        _seal = seal;
        var ballots = seal.Ballots;
        _byVoteId = new int[ballots.Count];
        for (var i = 0; i < _byVoteId.Length; i++)
        {
            _byVoteId[i] = i;
        }

        Array.Sort(_byVoteId, (a, b) => ballots[a].VoteId.CompareTo(ballots[b].VoteId));
    }

    public ReceiptLookup Find(Guid voteId, ReceiptCode code)
    {
        var ballots = _seal.Ballots;
        var first = ballots.LowerBound(code.First);
        var end = first;
        while (end < ballots.Count && code.Matches(ballots[end].Pseudonym))
        {
            if (ballots[end].VoteId == voteId)
            {
                return Counted(ReceiptStatus.Included, end);
            }

            end++;
        }

        if (IsBallot(voteId))
        {
            return new ReceiptLookup(ReceiptStatus.NotFound, null, null);
        }

        return (end - first) switch
        {
            0 => new ReceiptLookup(ReceiptStatus.NotFound, null, null),
            > 1 => new ReceiptLookup(ReceiptStatus.Ambiguous, null, null),
            _ when VoteOrder.Compare(ballots[first].VoteId, voteId) > 0 => Counted(ReceiptStatus.Superseded, first),
            _ => new ReceiptLookup(ReceiptStatus.NotCounted, null, null),
        };
    }

    /// <summary>Whether a sealed ballot has <paramref name="voteId"/>: a binary search of the ballots by vote id.</summary>
    private bool IsBallot(Guid voteId)
    {
        int low = 0, high = _byVoteId.Length - 1;
        while (low <= high)
        {
            var middle = low + (high - low) / 2;
            var order = _seal.Ballots[_byVoteId[middle]].VoteId.CompareTo(voteId);
            if (order == 0)
            {
                return true;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return false;
    }

    private ReceiptLookup Counted(ReceiptStatus status, int index) =>
        new(status, _seal.Ballots[index], _seal.Tree.ProofFor(index));
}

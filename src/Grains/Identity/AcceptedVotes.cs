namespace Voting.Grains.Identity;

/// <summary>The latest accepted vote of a voter, as a shard remembers it.</summary>
internal readonly record struct AcceptedVote(Guid VoteId, DateTime Timestamp, string Option);

/// <summary>
/// A bounded map from voter to accepted vote that forgets the voters it has not seen for longest.
/// </summary>
/// <remarks>
/// Two generations approximate least-recently-used eviction without a linked list per entry: writes go to the young
/// generation, a hit in the old generation moves the entry to the young one, and when the young generation is full
/// the old one is dropped whole and the young one takes its place. A voter is forgotten only after half the capacity
/// of other voters has been seen since it was last touched; at most <c>capacity</c> voters are held.
/// </remarks>
internal sealed class AcceptedVotes
{
    private readonly int _generationCapacity;
    private Dictionary<Guid, AcceptedVote> _young;
    private Dictionary<Guid, AcceptedVote> _old = [];

    public AcceptedVotes(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        _generationCapacity = capacity / 2;
        _young = new Dictionary<Guid, AcceptedVote>(Math.Min(_generationCapacity, 1024));
    }

    public int Count => _young.Count + _old.Count;

    /// <summary>Voters forgotten because the map was full.</summary>
    public long Evicted { get; private set; }

    public bool TryGet(Guid voterId, out AcceptedVote vote)
    {
        if (_young.TryGetValue(voterId, out vote))
        {
            return true;
        }

        if (_old.Remove(voterId, out vote))
        {
            Add(voterId, vote);
            return true;
        }

        return false;
    }

    /// <summary>Remembers the voter's accepted vote; call <see cref="TryGet"/> first, which promotes old entries.</summary>
    public void Set(Guid voterId, AcceptedVote vote)
    {
        if (_young.ContainsKey(voterId))
        {
            _young[voterId] = vote;
            return;
        }

        _old.Remove(voterId);
        Add(voterId, vote);
    }

    private void Add(Guid voterId, AcceptedVote vote)
    {
        if (_young.Count >= _generationCapacity)
        {
            Evicted += _old.Count;
            _old = _young;
            _young = new Dictionary<Guid, AcceptedVote>(_generationCapacity);
        }

        _young.Add(voterId, vote);
    }
}

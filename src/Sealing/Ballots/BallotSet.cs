using System.Runtime.InteropServices;
using System.Text;
using Voting.Sealing.Merkle;

namespace Voting.Sealing.Ballots;

/// <summary>
/// The counted ballots of a seal in canonical order (ascending pseudonym, each pseudonym once), kept compact for ten
/// million of them: 40 bytes a ballot, the option and the front end as indexes into small tables. It is the
/// <see cref="MerkleTree"/>'s leaves, leaf i being ballot i's <see cref="BallotLine"/>.
/// </summary>
public sealed class BallotSet : IMerkleLeaves
{
    private readonly CompactBallot[] _ballots;
    private readonly string[] _frontends;
    private readonly byte[][] _optionsUtf8;

    private BallotSet(CompactBallot[] ballots, IReadOnlyList<string> options, string[] frontends)
    {
        _ballots = ballots;
        Options = options;
        _frontends = frontends;
        _optionsUtf8 = [.. options.Select(Encoding.UTF8.GetBytes)];
    }

    /// <summary>The poll's options, in the poll's order (the manifest's).</summary>
    public IReadOnlyList<string> Options { get; }

    public int Count => _ballots.Length;

    public Ballot this[int index]
    {
        get
        {
            ref readonly var ballot = ref _ballots[index];
            return new Ballot(ballot.Pseudonym, Options[ballot.Option], ballot.VoteId, _frontends[ballot.Frontend]);
        }
    }

    /// <summary>The ballots per option, in <see cref="Options"/>' order (zero for an option nobody chose).</summary>
    public IReadOnlyList<long> Tallies()
    {
        var tallies = new long[Options.Count];
        foreach (ref readonly var ballot in _ballots.AsSpan())
        {
            tallies[ballot.Option]++;
        }

        return tallies;
    }

    /// <summary>The ballots per front end that accepted them, by front end id in ordinal order.</summary>
    public SortedDictionary<string, long> CountsPerFrontend()
    {
        var counts = new long[_frontends.Length];
        foreach (ref readonly var ballot in _ballots.AsSpan())
        {
            counts[ballot.Frontend]++;
        }

        var perFrontend = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] > 0)
            {
                perFrontend[_frontends[i]] = counts[i];
            }
        }

        return perFrontend;
    }

    /// <summary>The index of <paramref name="pseudonym"/>'s ballot, or -1: a binary search of the canonical order.</summary>
    public int IndexOf(Pseudonym pseudonym)
    {
        var index = LowerBound(pseudonym);
        return index < _ballots.Length && _ballots[index].Pseudonym == pseudonym ? index : -1;
    }

    /// <summary>
    /// The index of the first ballot whose pseudonym is not below <paramref name="pseudonym"/> (<see cref="Count"/> when
    /// there is none): where the ballots of a range of pseudonyms begin.
    /// </summary>
    public int LowerBound(Pseudonym pseudonym)
    {
        int low = 0, high = _ballots.Length;
        while (low < high)
        {
            var middle = low + (high - low) / 2;
            if (_ballots[middle].Pseudonym < pseudonym)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    public void HashLeaf(int index, Span<byte> destination)
    {
        ref readonly var ballot = ref _ballots[index];
        var option = _optionsUtf8[ballot.Option];
        Span<byte> line = stackalloc byte[BallotLine.MaxLength("") + option.Length];
        var length = BallotLine.Write(ballot.Pseudonym, ballot.VoteId, option, line);
        MerkleHash.Leaf(line[..length], destination);
    }

    /// <summary>Collects ballots in any order; <see cref="Build"/> sorts them into the canonical order.</summary>
    public sealed class Builder(IReadOnlyList<string> options)
    {
        private readonly Dictionary<string, ushort> _options = Index(options);
        private readonly Dictionary<string, ushort> _frontends = new(StringComparer.Ordinal);
        private readonly List<string> _frontendNames = [];
        private CompactBallot[] _ballots = new CompactBallot[1024];
        private int _count;

        /// <summary>Room for <paramref name="count"/> ballots in all, so that ten million need no copying on the way.</summary>
        public Builder WithCapacity(int count)
        {
            if (count > _ballots.Length)
            {
                Array.Resize(ref _ballots, count);
            }

            return this;
        }

        public void Add(Pseudonym pseudonym, string option, Guid voteId, string frontendId)
        {
            if (!_options.TryGetValue(option, out var optionIndex))
            {
                throw new SealingException($"a ballot's option '{option}' is none of the poll's ({string.Join(", ", options)}).");
            }

            if (!_frontends.TryGetValue(frontendId, out var frontendIndex))
            {
                if (_frontendNames.Count > ushort.MaxValue)
                {
                    throw new SealingException("ballots from more than 65,536 front ends");
                }

                frontendIndex = (ushort)_frontendNames.Count;
                _frontends.Add(frontendId, frontendIndex);
                _frontendNames.Add(frontendId);
            }

            if (_count == _ballots.Length)
            {
                Array.Resize(ref _ballots, checked(_ballots.Length * 2));
            }

            _ballots[_count++] = new CompactBallot(pseudonym, voteId, optionIndex, frontendIndex);
        }

        /// <summary>The ballots in canonical order; two ballots with one pseudonym (one voter twice) are an error.</summary>
        public BallotSet Build()
        {
            var ballots = _ballots.AsSpan(0, _count);
            ballots.Sort(static (a, b) => a.Pseudonym.CompareTo(b.Pseudonym));
            for (var i = 1; i < ballots.Length; i++)
            {
                if (ballots[i].Pseudonym == ballots[i - 1].Pseudonym)
                {
                    throw new SealingException($"two ballots have the pseudonym {ballots[i].Pseudonym}: one voter counted twice.");
                }
            }

            var sorted = _ballots.Length == _count ? _ballots : ballots.ToArray();
            _ballots = [];
            return new BallotSet(sorted, options, [.. _frontendNames]);
        }

        private static Dictionary<string, ushort> Index(IReadOnlyList<string> options)
        {
            if (options.Count is 0 or > ushort.MaxValue)
            {
                throw new ArgumentException("a poll has between 1 and 65,535 options", nameof(options));
            }

            var index = new Dictionary<string, ushort>(StringComparer.Ordinal);
            for (var i = 0; i < options.Count; i++)
            {
                if (!index.TryAdd(options[i], (ushort)i))
                {
                    throw new ArgumentException($"the option '{options[i]}' is given twice", nameof(options));
                }
            }

            return index;
        }
    }

    [StructLayout(LayoutKind.Auto)]
    private readonly record struct CompactBallot(Pseudonym Pseudonym, Guid VoteId, ushort Option, ushort Frontend);
}

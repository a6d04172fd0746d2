using BenchmarkDotNet.Attributes;
using Voting.Sealing.Ballots;
using Voting.Sealing.Merkle;

namespace Voting.Benchmarks.Sealing;

/// <summary>A receipt's lookup in a sealed count of ten million: find the voter's ballot, make its proof, check it.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ProofBenchmarks
{
    private BallotSet _ballots = null!;
    private MerkleTree _tree = null!;
    private Pseudonym[] _receipts = null!;
    private int _next;

    [Params(10_000_000)]
    public int Ballots { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var poll = new SyntheticPoll(Ballots);
        _ballots = poll.Ballots();
        _tree = new MerkleTree(_ballots);
        var random = new Random(1);
        _receipts = [.. Enumerable.Range(0, 4096).Select(_ => SyntheticPoll.PseudonymKey.Of(poll.Voters[random.Next(Ballots)]))];
    }

    [Benchmark]
    public bool LookUpProveAndVerify()
    {
        var pseudonym = _receipts[_next++ % _receipts.Length];
        var index = _ballots.IndexOf(pseudonym);
        var proof = _tree.ProofFor(index);
        return proof.Verifies(MerkleHash.Leaf(BallotLine.Of(_ballots[index])), _tree.Root);
    }
}

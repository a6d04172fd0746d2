using BenchmarkDotNet.Attributes;
using Voting.Sealing.Receipts;

namespace Voting.Benchmarks.Sealing;

/// <summary>
/// What a receipt adds to each accepted vote on a front end (src/Web, <c>VoteReceipts.For</c>): the voter's pseudonym
/// (HMAC-SHA256 of the voter id under the poll's key) and its code as printed on the receipt.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ReceiptCodeBenchmarks
{
    private readonly Guid[] _voters = [.. Enumerable.Range(0, 4096).Select(_ => Guid.NewGuid())];
    private int _next;

    [Benchmark]
    public string CodeOfAVoter() => ReceiptCode.Of(SyntheticPoll.PseudonymKey.Of(_voters[_next++ % _voters.Length])).ToString();
}

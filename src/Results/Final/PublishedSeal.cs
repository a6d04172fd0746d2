using System.Text;
using Voting.Sealing;
using Voting.Sealing.Receipts;
using Voting.ServiceDefaults.Voting;

namespace Voting.Results.Final;

/// <summary>
/// The poll's seal as the results app keeps it in memory, with what it serves of it made once: the summary, the
/// chart, and the index receipts are looked up in.
/// </summary>
public sealed record PublishedSeal(Seal Seal, FinalResults Summary, byte[] ChartSvg, ReceiptIndex Receipts)
{
    public static PublishedSeal Of(Seal seal, BallotOptions ballot)
    {
        var summary = FinalResults.Of(seal, ballot);
        return new PublishedSeal(seal, summary, Encoding.UTF8.GetBytes(FinalChart.Render(summary)), new ReceiptIndex(seal));
    }
}

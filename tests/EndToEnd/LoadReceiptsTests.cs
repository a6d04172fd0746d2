using System.Globalization;
using System.Text.RegularExpressions;
using Voting.Testing;
using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// Issue 12's check with the load tool, through the command line a company's operator runs: ten thousand simulated
/// voters (a fifth of them changing their vote, some submitting twice) vote over both front ends of <c>./voting up</c>,
/// the audit passes, the poll is closed and sealed, the export verifies, and <c>./voting receipts</c> finds every
/// voter's latest acknowledged vote in the sealed count — each proof checked by the tool itself against the signed
/// root — and superseded receipts answered as superseded by the voter's latest ballot.
/// </summary>
public sealed partial class LoadReceiptsTests(ITestOutputHelper output)
{
    private const int Voters = 10_000;

    [Fact]
    public async Task EveryLatestVoteOfTenThousandVotersHasAValidProofInTheSealedCount()
    {
        var voting = VotingCommand.ForNewSystem(frontends: 2);
        try
        {
            await RunAsync(voting, ["up", "--detach"], TimeSpan.FromMinutes(5));
            var load = await RunAsync(voting, ["load", "--voters", Voters.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(10));
            Assert.Contains("AUDIT PASSED", load.Output, StringComparison.Ordinal);
            var acknowledged = Number(Acknowledged().Match(load.Output));

            await RunAsync(voting, ["poll", "close"], TimeSpan.FromMinutes(1));
            await Poll.UntilAsync(async () => (await voting.RunAsync("poll", "status")).Output.Contains("phase       closed", StringComparison.Ordinal),
                TimeSpan.FromMinutes(1), "the poll did not close after the notice");
            var export = Path.Combine(TestDirectories.Create("load-receipts"), "export");
            var seal = await RunAsync(voting, ["poll", "seal", "--out", export], TimeSpan.FromMinutes(5));
            Assert.Contains("verifies", seal.Output, StringComparison.Ordinal);

            var receipts = await RunAsync(voting, ["receipts"], TimeSpan.FromMinutes(10));
            var report = Report().Match(receipts.Output);
            Assert.True(report.Success, receipts.ToString());
            Assert.Equal(0, Number(report.Groups["failed"]));
            // Every voter with an acknowledged vote was looked up by their latest receipt: included with exactly that vote,
            // or (a voter whose later vote went unanswered) superseded by that unconfirmed one, never failed.
            var included = Number(report.Groups["included"]);
            Assert.Equal(acknowledged, included + Number(report.Groups["unconfirmed"]));
            Assert.True(included >= acknowledged - Number(Uncertain().Match(load.Output)), receipts.Output);
            Assert.Equal(Number(report.Groups["checked"]), included + Number(report.Groups["unconfirmed"]) + Number(report.Groups["superseded"]));
            Assert.True(Number(report.Groups["superseded"]) > 0, receipts.Output);
        }
        finally
        {
            output.WriteLine((await voting.RunAsync("down")).ToString());
        }
    }

    private async Task<CommandResult> RunAsync(VotingCommand voting, string[] arguments, TimeSpan timeout)
    {
        var result = await voting.RunAsync(arguments, timeout);
        output.WriteLine($"$ ./voting {string.Join(' ', arguments)}\n{result}");
        Assert.True(result.ExitCode == 0, $"./voting {string.Join(' ', arguments)}: {result}");
        return result;
    }

    /// <summary>The first number in what was matched (<c>2,144</c>).</summary>
    private static int Number(Capture match) =>
        int.Parse(Regex.Match(match.Value, @"\d[\d,]*").Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);

    [GeneratedRegex(@"(?m)^  acknowledged +[\d,]+  voters with an acknowledged vote")]
    private static partial Regex Acknowledged();

    [GeneratedRegex(@"(?m)^  uncertain +[\d,]+")]
    private static partial Regex Uncertain();

    [GeneratedRegex(@"Receipts: checked (?<checked>[\d,]+)  included (?<included>[\d,]+)  superseded as expected (?<superseded>[\d,]+)  superseded by an unconfirmed vote (?<unconfirmed>[\d,]+)  failed (?<failed>[\d,]+)")]
    private static partial Regex Report();
}

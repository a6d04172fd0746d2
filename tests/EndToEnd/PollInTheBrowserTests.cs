using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Voting.Testing;
using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// Issue 12 as the company and a voter try it, on <c>./voting up</c> with a results embargo: a voter votes through the
/// balancer in headless Chromium and keeps the page's receipt, then changes their vote and keeps the second; the
/// company closes and seals the poll from the command line, verifies the export, and sees a changed byte refused; the
/// results page shows no count until the release, then the sealed count with its Merkle root; and on the results app's
/// <c>/receipt</c> page the browser itself proves the latest receipt in the sealed count and answers the first one as
/// superseded by it.
/// </summary>
public sealed class PollInTheBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private HeadlessChromium? _chromium;

    private IBrowser Chromium => _chromium!.Browser;

    public async Task InitializeAsync() => _chromium = await HeadlessChromium.LaunchAsync();

    public async Task DisposeAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
    }

    [Fact]
    public async Task AVotersReceiptsFromTheBalancerAreProvedInTheBrowserOnceTheSealedCountIsReleased()
    {
        var voting = new VotingCommand(new Dictionary<string, string>(VotingCommand.ForNewSystem(frontends: 2).Environment) { ["Poll__Embargo"] = "true" });
        try
        {
            var up = await RunAsync(voting, 0, "up", "--detach");
            var vote = new Uri(Regex.Match(up.Output, @"Vote:\s+(\S+)").Groups[1].Value);
            var results = new Uri(Regex.Match(up.Output, @"Results:\s+(\S+)").Groups[1].Value);

            // The voter: a vote for Cats, then a change to Dogs, a receipt after each.
            var voter = await Chromium.NewPageAsync();
            var first = await VoteAsync(voter, vote, "a");
            var latest = await VoteAsync(voter, vote, "b");
            Assert.NotEqual(first.VoteId, latest.VoteId);
            Assert.Equal(first.Code, latest.Code);

            // The company: close, seal, verify; a changed byte is refused.
            await RunAsync(voting, 0, "poll", "close");
            await Poll.UntilAsync(async () => (await voting.RunAsync("poll", "status")).Output.Contains("phase       closed", StringComparison.Ordinal),
                Patience, "the poll did not close after the notice");
            var export = Path.Combine(TestDirectories.Create("browser-poll"), "export");
            var seal = await RunAsync(voting, 0, "poll", "seal", "--out", export);
            var root = Regex.Match(seal.Output, @"Merkle root: ([0-9a-f]{64})").Groups[1].Value;
            Assert.Contains("total: 1", seal.Output, StringComparison.Ordinal);
            Assert.Contains("verifies", (await RunAsync(voting, 0, "verify", export)).Output, StringComparison.Ordinal);
            var manifest = Path.Combine(export, "manifest.json");
            var json = await File.ReadAllTextAsync(manifest);
            var at = json.IndexOf("\"merkleRoot\":\"", StringComparison.Ordinal) + "\"merkleRoot\":\"".Length;
            await File.WriteAllTextAsync(manifest, json[..at] + (json[at] == '0' ? '1' : '0') + json[(at + 1)..]);
            Assert.Contains("does NOT verify", (await RunAsync(voting, 1, "verify", export)).Error, StringComparison.Ordinal);

            // The results page: no count under the embargo; the sealed count with its root once released.
            var page = await Chromium.NewPageAsync();
            await page.GotoAsync(results.ToString());
            Assert.Equal(0, await page.Locator("#final").CountAsync());
            Assert.DoesNotContain(root, await page.ContentAsync(), StringComparison.Ordinal);
            await RunAsync(voting, 0, "poll", "release");
            await Poll.UntilAsync(async () =>
            {
                await page.GotoAsync(results.ToString());
                return await page.Locator("#merkle-root").CountAsync() == 1;
            }, Patience, "the results page did not show the sealed count after the release");
            Assert.Equal(root, await page.InnerTextAsync("#merkle-root"));
            Assert.Contains("1 ballots", await page.InnerTextAsync("#final-total"), StringComparison.Ordinal);

            // The voter's receipts, checked by the browser against the published root and signature.
            var check = await Chromium.NewPageAsync();
            var (result, text) = await CheckAsync(check, results, latest);
            Assert.True(result == "verified", text);
            Assert.Equal("Your ballot is in the sealed count: it counted for Dogs.", text);
            (result, text) = await CheckAsync(check, results, first);
            Assert.True(result == "superseded", text);
            Assert.EndsWith("it counted for Dogs.", text, StringComparison.Ordinal);
        }
        finally
        {
            output.WriteLine((await voting.RunAsync("down")).ToString());
        }
    }

    private static async Task<(string VoteId, string Code)> VoteAsync(IPage page, Uri vote, string option)
    {
        await page.GotoAsync(vote.ToString());
        await page.ClickAsync($"#option-{option}");
        await page.Locator("#receipt-code").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        return (await page.InnerTextAsync("#receipt-vote-id"), await page.InnerTextAsync("#receipt-code"));
    }

    private static async Task<(string Result, string Text)> CheckAsync(IPage page, Uri results, (string VoteId, string Code) receipt)
    {
        await page.GotoAsync(new Uri(results, "receipt").ToString());
        return await HeadlessChromium.CheckReceiptAsync(page, receipt.VoteId, receipt.Code);
    }

    private async Task<CommandResult> RunAsync(VotingCommand voting, int exitCode, params string[] arguments)
    {
        var result = await voting.RunAsync(arguments);
        output.WriteLine($"$ ./voting {string.Join(' ', arguments)}\n{result}");
        Assert.True(result.ExitCode == exitCode, $"./voting {string.Join(' ', arguments)}: {result}");
        return result;
    }
}

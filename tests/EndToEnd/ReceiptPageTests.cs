using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// A voter checks a receipt on <c>/receipt</c> in a real browser (headless Chromium, driven by Playwright), on the
/// released seal of <see cref="SealedPollFixture"/>: the page's script checks the proof itself, so a real receipt is
/// shown verified, a superseded one says so with the later ballot proved, and a proof changed on its way to the
/// browser is refused, naming the check that failed.
/// </summary>
[Collection(SealedPollCollection.Name)]
public sealed class ReceiptPageTests(SealedPollFixture poll) : IAsyncLifetime
{
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
    public async Task AReceiptIsShownInTheSealedCountOnceTheBrowserHasCheckedItsProof()
    {
        var vote = poll.Latest.First(v => v.Option == "b");
        var page = await OpenAsync();

        var (result, text) = await HeadlessChromium.CheckReceiptAsync(page, vote.Vote.ToString("D"), poll.CodeOf(vote.Voter).ToString());

        Assert.True(result == "verified", text);
        Assert.Equal("Your ballot is in the sealed count: it counted for Dogs.", text);
        var checks = await page.Locator("#checks li.passed").AllInnerTextsAsync();
        Assert.Equal(4, checks.Count);
        Assert.Contains(checks, c => c.Contains("signature verifies", StringComparison.Ordinal));
        Assert.Contains(checks, c => c.Contains("audit path leads", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASupersededReceiptSaysSoAndProvesTheLaterBallot()
    {
        var vote = poll.Superseded.First();
        var latest = poll.Latest.Single(v => v.Voter == vote.Voter);
        var page = await OpenAsync();

        var (result, text) = await HeadlessChromium.CheckReceiptAsync(page, vote.Vote.ToString("D"), poll.CodeOf(vote.Voter).ToString());

        Assert.True(result == "superseded", text);
        Assert.StartsWith("This vote was superseded by your later vote", text, StringComparison.Ordinal);
        Assert.EndsWith($"it counted for {(latest.Option == "a" ? "Cats" : "Dogs")}.", text, StringComparison.Ordinal);
        Assert.Equal(4, await page.Locator("#checks li.passed").CountAsync());
    }

    [Fact]
    public async Task AProofChangedOnItsWayToTheBrowserIsRefusedNamingTheCheck()
    {
        var vote = poll.Latest.First();
        var code = poll.CodeOf(vote.Voter).ToString();

        // One byte of the audit path changed in flight: the path no longer leads to the signed root.
        var (result, text) = await CheckTamperedAsync(vote.Vote, code, proof =>
        {
            var path = proof["auditPath"]!.AsArray();
            var first = path[0]!.GetValue<string>();
            path[0] = (first[0] == '0' ? "1" : "0") + first[1..];
        });
        Assert.True(result == "failed", text);
        Assert.Contains("the audit path failed", text, StringComparison.Ordinal);
        Assert.DoesNotContain("is in the sealed count", text, StringComparison.Ordinal);

        // The option changed in flight: the leaf is no longer the ballot's.
        (result, text) = await CheckTamperedAsync(vote.Vote, code, proof =>
            proof["ballot"]!["option"] = vote.Option == "a" ? "b" : "a");
        Assert.True(result == "failed", text);
        Assert.Contains("the leaf failed", text, StringComparison.Ordinal);

        // A root of the server's own, proof and ballot consistent with it: not the signed manifest's root.
        (result, text) = await CheckTamperedAsync(vote.Vote, code, proof => proof["merkleRoot"] = new string('0', 64));
        Assert.True(result == "failed", text);
        Assert.Contains("the root failed", text, StringComparison.Ordinal);
    }

    private async Task<IPage> OpenAsync()
    {
        var context = await Chromium.NewContextAsync();
        var page = await context.NewPageAsync();
        var response = await page.GotoAsync(new Uri(poll.Results.BaseAddress, "receipt").ToString());
        Assert.Equal(200, response!.Status);
        return page;
    }

    /// <summary>The receipt checked on a page whose proof lookups are changed by <paramref name="tamper"/> on the way.</summary>
    private async Task<(string Result, string Text)> CheckTamperedAsync(Guid vote, string code, Action<JsonNode> tamper)
    {
        var page = await OpenAsync();
        await page.RouteAsync("**/api/receipts/**", async route =>
        {
            var response = await route.FetchAsync();
            var answer = JsonNode.Parse(await response.TextAsync())!;
            tamper(answer["proof"]!);
            await route.FulfillAsync(new RouteFulfillOptions { Response = response, Body = answer.ToJsonString() });
        });
        return await HeadlessChromium.CheckReceiptAsync(page, vote.ToString("D"), code);
    }
}

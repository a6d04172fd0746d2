using Microsoft.Playwright;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// A person in a real browser (headless Chromium from Debian, driven by Playwright): votes on one front end,
/// changes the vote on the other, and watches the results page update without a reload.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class BrowserTests(VotingSystemFixture system) : IAsyncLifetime
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
    public async Task AVoterVotesChangesTheirMindOnAnotherFrontEndAndTheResultsPageFollows()
    {
        var results = await Chromium.NewPageAsync();
        await results.GotoAsync(system.Results.BaseAddress.ToString());
        var dogsBefore = await CountAsync(results, "Dogs");

        await using var context = await Chromium.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(system.Frontends[0].App.BaseAddress.ToString());
        Assert.Equal("Cats vs Dogs!", await page.TitleAsync());
        await page.ClickAsync("#option-a");
        Assert.Contains("Your vote for Cats is recorded.", await page.InnerTextAsync("[role=status]"), StringComparison.Ordinal);
        Assert.Equal("true", await page.GetAttributeAsync("#option-a", "aria-pressed"));

        // The same browser (same cookie) reaches the other front end, as a load balancer may send it there.
        await page.GotoAsync(system.Frontends[1].App.BaseAddress.ToString());
        await page.ClickAsync("#option-b");
        Assert.Contains("Your vote for Dogs is recorded.", await page.InnerTextAsync("[role=status]"), StringComparison.Ordinal);
        Assert.Contains("(frontend02)", await page.InnerTextAsync(".host"), StringComparison.Ordinal);

        // The results page, opened before the vote and never reloaded, shows the vote for Dogs.
        await Poll.UntilAsync(async () => await CountAsync(results, "Dogs") > dogsBefore, TimeSpan.FromSeconds(60),
            "the live results page did not show the vote");
    }

    private static async Task<long> CountAsync(IPage results, string label)
    {
        var row = results.Locator(".option", new PageLocatorOptions { Has = results.Locator(".label", new PageLocatorOptions { HasText = label }) });
        var text = await row.Locator(".count").InnerTextAsync();
        return long.Parse(text[..text.IndexOf(' ', StringComparison.Ordinal)].Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
    }
}

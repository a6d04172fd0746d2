using Microsoft.Playwright;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright (which downloads no browser of its own here), with the flags a new
/// headless Chromium needs on this machine. Every browser test launches it this way.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private const string Executable = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is missing: install Debian's chromium package (./voting test does).");
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            return new HeadlessChromium(playwright, await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Executable,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            }));
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A receipt typed into the results app's <c>/receipt</c> page open in <paramref name="page"/>, once its script has
    /// checked the proof: the outcome (<c>verified</c>, <c>superseded</c>, ...) and the sentence it shows.
    /// </summary>
    public static async Task<(string Result, string Text)> CheckReceiptAsync(IPage page, string voteId, string code)
    {
        await page.FillAsync("#vote-id", voteId);
        await page.FillAsync("#code", code);
        await page.ClickAsync("button[type=submit]");
        var outcome = page.Locator("#outcome[data-result]");
        await outcome.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        return (await outcome.GetAttributeAsync("data-result") ?? "", await outcome.InnerTextAsync());
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}

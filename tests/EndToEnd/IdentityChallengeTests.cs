using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The identity challenge switched on (<c>Challenge:Mode=ProofOfWork</c>) on a front end of its own: a new voter's
/// page is a proof of work instead of an identity; a solved one, and only that, mints the identity, once.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed partial class IdentityChallengeTests(VotingSystemFixture system) : IAsyncLifetime
{
    private const int Difficulty = 10;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private RedisServer _redis = null!;
    private AppProcess _web = null!;

    public async Task InitializeAsync()
    {
        _redis = await TestServers.StartRedisAsync();
        _web = system.Apps.StartWeb("challenge-" + Guid.NewGuid().ToString("N")[..8], _redis.Endpoint, new Dictionary<string, string?>
        {
            ["Challenge__Mode"] = "ProofOfWork",
            ["Challenge__Difficulty"] = Difficulty.ToString(CultureInfo.InvariantCulture),
        });
        try
        {
            await _web.WaitReadyAsync(StartTimeout);
        }
        catch
        {
            // xunit disposes nothing whose initialisation failed: stop them here.
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await _web.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task ANewVotersPageIsAChallengeAndOnlyItsSolutionMintsAnIdentityOnce()
    {
        using var browser = Browser.OfItsOwn();
        var page = await browser.OpenAsync(_web.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.False(page.Headers.Contains("Set-Cookie"), "The challenge page must not hand out an identity.");
        Assert.Contains("script-src 'sha256-", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var challenge = ChallengeOf(await page.Content.ReadAsStringAsync());

        // Without an identity, a vote is refused as always.
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.VoteWithJsonAsync(_web.BaseAddress, "a")).StatusCode);

        // A wrong answer, a forged challenge: 400, no identity.
        using var wrong = await AnswerAsync(browser, challenge, Unsolution(challenge));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("does not solve", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var forged = challenge[..challenge.LastIndexOf('.')] + ".AAAAAAAAAAAAAAAAAAAAAA";
        using var forgery = await AnswerAsync(browser, forged, Solve(forged));
        Assert.Equal(HttpStatusCode.BadRequest, forgery.StatusCode);
        Assert.Null(browser.VoterCookie(_web.BaseAddress));

        // The solution: an identity and back to the ballot, where the vote is taken.
        using var solved = await AnswerAsync(browser, challenge, Solve(challenge));
        Assert.Equal(HttpStatusCode.SeeOther, solved.StatusCode);
        Assert.Equal("/", solved.Headers.Location?.OriginalString);
        Assert.NotNull(browser.VoterCookie(_web.BaseAddress));
        Assert.Equal(HttpStatusCode.Accepted, (await browser.VoteWithJsonAsync(_web.BaseAddress, "b")).StatusCode);

        // The same solution again, by a client without the cookie: refused, it was used.
        using var replaying = Browser.OfItsOwn();
        using var replay = await AnswerAsync(replaying, challenge, Solve(challenge));
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains("used already", await replay.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(replaying.VoterCookie(_web.BaseAddress));
    }

    [Fact]
    public async Task ARealBrowserSolvesTheChallengeAndVotes()
    {
        await using var chromium = await HeadlessChromium.LaunchAsync();
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ExtraHTTPHeaders = new Dictionary<string, string> { ["X-Forwarded-For"] = ClientAddresses.Next() },
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync(_web.BaseAddress.ToString());
        // The script solves the puzzle and posts it; the identity's page is the ballot.
        await page.WaitForSelectorAsync("#option-a", new PageWaitForSelectorOptions { Timeout = 60_000 });
        await page.ClickAsync("#option-a");
        Assert.Contains("Your vote for Cats is recorded.", await page.InnerTextAsync("[role=status]"), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> AnswerAsync(Browser browser, string challenge, string solution)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_web.BaseAddress, "identity"))
        {
            Content = new FormUrlEncodedContent([new("challenge", challenge), new("solution", solution)]),
        };
        return await browser.SendAsync(request);
    }

    private static string ChallengeOf(string page) => WebUtility.HtmlDecode(ChallengeField().Match(page).Groups[1].Value) is { Length: > 0 } challenge
        ? challenge
        : throw new InvalidOperationException("The page holds no challenge:\n" + page);

    /// <summary>The smallest number whose hash with the challenge has the leading zero bits asked for.</summary>
    private static string Solve(string challenge) => Numbers().First(n => ZeroBits(challenge, n) >= Difficulty).ToString(CultureInfo.InvariantCulture);

    private static string Unsolution(string challenge) => Numbers().First(n => ZeroBits(challenge, n) == 0).ToString(CultureInfo.InvariantCulture);

    private static IEnumerable<long> Numbers()
    {
        for (long n = 0; ; n++)
        {
            yield return n;
        }
    }

    private static int ZeroBits(string challenge, long n)
    {
        var hash = SHA256.HashData(Encoding.ASCII.GetBytes(challenge + ":" + n.ToString(CultureInfo.InvariantCulture)));
        var bits = 0;
        foreach (var b in hash)
        {
            if (b != 0)
            {
                return bits + System.Numerics.BitOperations.LeadingZeroCount((uint)b) - 24;
            }

            bits += 8;
        }

        return bits;
    }

    [GeneratedRegex("name=\"challenge\" value=\"([^\"]+)\"")]
    private static partial Regex ChallengeField();
}

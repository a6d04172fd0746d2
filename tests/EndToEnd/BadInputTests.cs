using System.Net;
using System.Text;

namespace Voting.EndToEnd.Tests;

/// <summary>Every vote that is not taken gets a clear answer with a reason: never a 500, never a silent drop.</summary>
[Collection(VotingSystemCollection.Name)]
public sealed class BadInputTests(VotingSystemFixture system)
{
    private Uri Frontend => system.Frontends[0].App.BaseAddress;

    private async Task<Browser> VisitorAsync()
    {
        var browser = new Browser();
        await browser.OpenAsync(Frontend);
        return browser;
    }

    private HttpRequestMessage JsonVote(string body, string contentType = "application/json") => new(HttpMethod.Post, new Uri(Frontend, "api/votes"))
    {
        Content = new StringContent(body, Encoding.UTF8, contentType),
    };

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string reason)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Browser.JsonAsync(response);
        Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TheFirstVisitGetsAnHttpOnlySameSiteVoterCookie()
    {
        using var browser = new Browser();
        var response = await browser.OpenAsync(Frontend);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("voter_id=", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);

        // A returning voter keeps their id.
        var again = await browser.OpenAsync(Frontend);
        Assert.False(again.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task AnUnknownOptionIsRefusedWith400()
    {
        using var browser = await VisitorAsync();
        await AssertProblemAsync(await browser.VoteWithJsonAsync(Frontend, "z"), HttpStatusCode.BadRequest, "not an option");
        var form = await browser.VoteWithFormAsync(Frontend, "cats");
        Assert.Equal(HttpStatusCode.BadRequest, form.StatusCode);
        Assert.Contains("not an option on this ballot", await form.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedJsonIsRefusedWith400()
    {
        using var browser = await VisitorAsync();
        await AssertProblemAsync(await browser.SendAsync(JsonVote("{\"option\":")), HttpStatusCode.BadRequest, "not valid JSON");
        await AssertProblemAsync(await browser.SendAsync(JsonVote("[1,2,3]")), HttpStatusCode.BadRequest, "not valid JSON");
        await AssertProblemAsync(await browser.SendAsync(JsonVote("{\"option\":7}")), HttpStatusCode.BadRequest, "not valid JSON");
        await AssertProblemAsync(await browser.SendAsync(JsonVote("{}")), HttpStatusCode.BadRequest, "must be");
        await AssertProblemAsync(await browser.SendAsync(JsonVote("null")), HttpStatusCode.BadRequest, "must be");
    }

    [Fact]
    public async Task AFormWithoutAVoteIsRefusedWith400()
    {
        using var browser = await VisitorAsync();
        var response = await browser.SendAsync(new HttpRequestMessage(HttpMethod.Post, Frontend)
        {
            Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("choice", "a")]),
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("no &#x27;vote&#x27; field", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheWrongContentTypeIsRefusedWith415()
    {
        using var browser = await VisitorAsync();
        await AssertProblemAsync(await browser.SendAsync(JsonVote("option=a", "text/plain")), HttpStatusCode.UnsupportedMediaType, "JSON");
        var form = await browser.SendAsync(new HttpRequestMessage(HttpMethod.Post, Frontend) { Content = new StringContent("{\"option\":\"a\"}", Encoding.UTF8, "application/json") });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
    }

    [Fact]
    public async Task AnOversizedBodyIsRefusedWith413()
    {
        using var browser = await VisitorAsync();
        var padding = new string(' ', 64 * 1024);
        await AssertProblemAsync(await browser.SendAsync(JsonVote("{\"option\":\"a\"" + padding + "}")), HttpStatusCode.RequestEntityTooLarge, "too large");
        var form = await browser.SendAsync(new HttpRequestMessage(HttpMethod.Post, Frontend)
        {
            Content = new StringContent("vote=a&filler=" + new string('x', 64 * 1024), Encoding.UTF8, "application/x-www-form-urlencoded"),
        });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, form.StatusCode);
    }

    [Fact]
    public async Task AVoteWithoutAVoterCookieIsRefusedWithoutIssuingOneAndTheVotePageIssuesIt()
    {
        using var browser = new Browser();
        var response = await browser.VoteWithJsonAsync(Frontend, "a");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "load the vote page");
        Assert.False(response.Headers.Contains("Set-Cookie"));
        var form = await browser.VoteWithFormAsync(Frontend, "a");
        Assert.Equal(HttpStatusCode.BadRequest, form.StatusCode);
        Assert.Contains("load the vote page", await form.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(form.Headers.Contains("Set-Cookie"));
        Assert.Null(browser.VoterCookie(Frontend));

        // Identities come from the vote page only.
        await browser.OpenAsync(Frontend);
        Assert.NotNull(browser.VoterCookie(Frontend));

        // With the cookie it was given, the voter's next attempt counts.
        Assert.Equal(HttpStatusCode.Accepted, (await browser.VoteWithJsonAsync(Frontend, "a")).StatusCode);
    }

    [Fact]
    public async Task AVoteWithATamperedVoterCookieIsRefused()
    {
        using var browser = await VisitorAsync();
        var genuine = browser.VoterCookie(Frontend)!;
        // Another voter id under the genuine signature: the forgery the signature exists to stop.
        var forged = (genuine[0] == 'a' ? "b" : "a") + genuine[1..];
        var badCharacters = genuine[..33] + new string('!', genuine.Length - 33);
        foreach (var value in new[] { forged, genuine[..32], "not-a-cookie", genuine + "x", badCharacters })
        {
            var request = JsonVote("{\"option\":\"a\"}");
            request.Headers.Add("Cookie", "voter_id=" + value);
            using var bare = new HttpClient();
            var response = await bare.SendAsync(request);
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not valid");
            // No new identity for a forged cookie: only the vote page issues one.
            Assert.False(response.Headers.Contains("Set-Cookie"));
        }
    }

    [Fact]
    public async Task NoMalformedRequestProducesAServerError()
    {
        var random = new Random(7);
        var bodies = new List<string> { "", "{", "\"a\"", "{\"option\":null}", "{\"option\":\"\"}", "{\"option\":\"aa\"}", "{\"option\":[\"a\"]}", "\u0000\u0001" };
        for (var i = 0; i < 40; i++)
        {
            var bytes = new byte[random.Next(1, 200)];
            random.NextBytes(bytes);
            bodies.Add(Encoding.Latin1.GetString(bytes));
        }

        foreach (var body in bodies)
        {
            // A voter of its own for each body: the bodies are what is tried here, not the per-voter limit.
            using var browser = Browser.OfItsOwn();
            await browser.OpenAsync(Frontend);
            foreach (var contentType in new[] { "application/json", "application/x-www-form-urlencoded" })
            {
                var target = contentType == "application/json" ? new Uri(Frontend, "api/votes") : Frontend;
                var response = await browser.SendAsync(new HttpRequestMessage(HttpMethod.Post, target) { Content = new StringContent(body, Encoding.UTF8, contentType) });
                Assert.True((int)response.StatusCode is >= 400 and < 500 or 200 or 202,
                    $"{contentType} body {body.Length} chars gave {(int)response.StatusCode}");
            }
        }
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Voting.Sealing.Ballots;
using Voting.Sealing.Receipts;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The receipt a voter gets for each vote, on real front ends (each its own process, with its own Redis): the vote id
/// and the code of the voter's pseudonym under the poll's key, in the JSON answer and on the page after a form vote,
/// the same code for every vote of one voter, never cached and never logged; and the vote id alone where the front
/// end has no pseudonym key.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed partial class VoteReceiptTests(VotingSystemFixture system) : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly HttpClient _http = NewClient();

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task EveryVoteOfAVoterHasAReceiptWithTheCodeOfTheirPseudonym()
    {
        var pseudonyms = PseudonymKey.FromBase64(await File.ReadAllTextAsync(TestApps.Sealing.PseudonymKeyPath), "test");
        var (first, second) = (system.Frontends[0].App.BaseAddress, system.Frontends[1].App.BaseAddress);
        var cookie = await OpenAsync(first);

        using var json = await VoteJsonAsync(first, cookie, "a");
        Assert.Equal(HttpStatusCode.Accepted, json.StatusCode);
        AssertNotCached(json);
        var answer = await json.Content.ReadFromJsonAsync<JsonElement>();
        var voter = answer.GetProperty("voterId").GetGuid();
        var receipt = answer.GetProperty("receipt");
        var expected = ReceiptCode.Of(pseudonyms.Of(voter)).ToString();
        Assert.Equal(answer.GetProperty("voteId").GetString(), receipt.GetProperty("voteId").GetString());
        Assert.Equal(expected, receipt.GetProperty("code").GetString());
        Assert.Matches("^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$", expected);

        // The voter changes their mind with the form, on the other front end: a new vote id, the same code, on the page.
        using var form = await VoteFormAsync(second, VoterCookie(json), "b");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        AssertNotCached(form);
        var page = await form.Content.ReadAsStringAsync();
        var (voteId, code) = (ReceiptVoteId().Match(page), ReceiptCodeOnPage().Match(page));
        Assert.True(voteId.Success && code.Success, "the page after the vote shows no receipt:\n" + page);
        Assert.Equal(expected, code.Groups[1].Value);
        Assert.NotEqual(receipt.GetProperty("voteId").GetGuid(), Guid.Parse(voteId.Groups[1].Value));
        Assert.Contains("Keep this receipt", page, StringComparison.Ordinal);

        // The code is the voter's alone: the front ends never write it to their logs.
        Assert.All(system.Frontends, f => Assert.DoesNotContain(expected, f.App.Process.Tail(2000), StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutAPseudonymKeyAVoteGetsItsVoteIdAndNoCode()
    {
        await using var redis = await TestServers.StartRedisAsync();
        await using var web = system.Apps.StartWeb("nocodes01", redis.Endpoint, new Dictionary<string, string?> { ["Poll__PseudonymKey"] = "" });
        await web.WaitReadyAsync(StartTimeout);
        var cookie = await OpenAsync(web.BaseAddress);

        using var json = await VoteJsonAsync(web.BaseAddress, cookie, "a");
        Assert.Equal(HttpStatusCode.Accepted, json.StatusCode);
        var answer = await json.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(answer.GetProperty("voteId").GetString(), answer.GetProperty("receipt").GetProperty("voteId").GetString());
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("receipt").GetProperty("code").ValueKind);

        using var form = await VoteFormAsync(web.BaseAddress, VoterCookie(json), "b");
        var page = await form.Content.ReadAsStringAsync();
        Assert.True(ReceiptVoteId().IsMatch(page), "the page after the vote shows no vote id:\n" + page);
        Assert.DoesNotMatch(ReceiptCodeOnPage(), page);
        Assert.Contains("Receipt codes are not configured", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheReceiptLinksToTheResultsAppsReceiptPageWithNothingOfTheReceiptInTheLink()
    {
        await using var redis = await TestServers.StartRedisAsync();
        await using var web = system.Apps.StartWeb("links01", redis.Endpoint, new Dictionary<string, string?> { ["Poll__ResultsUrl"] = "https://results.example.com/poll" });
        await web.WaitReadyAsync(StartTimeout);

        using var form = await VoteFormAsync(web.BaseAddress, await OpenAsync(web.BaseAddress), "a");
        var page = await form.Content.ReadAsStringAsync();
        var code = ReceiptCodeOnPage().Match(page);
        Assert.True(code.Success, "the page after the vote shows no receipt code:\n" + page);
        Assert.Contains("<a href=\"https://results.example.com/poll/receipt\" rel=\"noreferrer\">", page, StringComparison.Ordinal);
    }

    private static void AssertNotCached(HttpResponseMessage response) =>
        Assert.True(response.Headers.CacheControl?.NoStore == true, $"a vote's answer (with its receipt) may be cached: Cache-Control {response.Headers.CacheControl}");

    private static HttpClient NewClient()
    {
        var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(15) };
        // As a trusted proxy hop would say it: this test's voters come from an address of their own.
        http.DefaultRequestHeaders.Add("X-Forwarded-For", ClientAddresses.Next());
        return http;
    }

    /// <summary>The vote page's voter cookie, as a <c>Cookie</c> header.</summary>
    private async Task<string> OpenAsync(Uri frontend)
    {
        using var page = await _http.GetAsync(frontend);
        page.EnsureSuccessStatusCode();
        return VoterCookie(page);
    }

    private async Task<HttpResponseMessage> VoteJsonAsync(Uri frontend, string cookie, string option)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(frontend, "api/votes")) { Content = JsonContent.Create(new { option }) };
        request.Headers.Add("Cookie", cookie);
        return await _http.SendAsync(request);
    }

    private async Task<HttpResponseMessage> VoteFormAsync(Uri frontend, string cookie, string option)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, frontend) { Content = new FormUrlEncodedContent([new("vote", option)]) };
        request.Headers.Add("Cookie", cookie);
        return await _http.SendAsync(request);
    }

    private static string VoterCookie(HttpResponseMessage response) =>
        response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("voter_id=", StringComparison.Ordinal)).Split(';')[0];

    [GeneratedRegex("id=\"receipt-vote-id\">([0-9a-f-]{36})<")]
    private static partial Regex ReceiptVoteId();

    [GeneratedRegex("id=\"receipt-code\">([0-9A-Z-]+)<")]
    private static partial Regex ReceiptCodeOnPage();
}

using System.Net;
using Voting.Testing;

namespace Voting.System.Tests;

/// <summary>What a voter sees when the front end's Redis is gone, and that voting resumes when it is back.</summary>
[Collection(VotingSystemCollection.Name)]
public sealed class FaultTests(VotingSystemFixture system)
{
    [Fact]
    public async Task VotesAreRefusedWith503AndRetryAfterWhileRedisIsDownAndTakenAgainWhenItIsBack()
    {
        var frontend = system.Faulty;
        var address = frontend.App.BaseAddress;
        using var browser = new Browser();
        await browser.OpenAsync(address);
        Assert.Equal(HttpStatusCode.Accepted, (await browser.VoteWithJsonAsync(address, "a")).StatusCode);

        await frontend.Redis.KillAsync();
        try
        {
            var json = await browser.VoteWithJsonAsync(address, "b");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, json.StatusCode);
            Assert.True(json.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Contains("not recorded", (await Browser.JsonAsync(json)).GetProperty("detail").GetString(), StringComparison.Ordinal);

            var form = await browser.VoteWithFormAsync(address, "b");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, form.StatusCode);
            Assert.NotNull(form.Headers.RetryAfter);
            Assert.Contains("<strong>not</strong> recorded", await form.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(new Uri(address, "health/ready"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(address, "health/live"))).StatusCode);
        }
        finally
        {
            await frontend.Redis.RestartAsync();
        }

        // The front end reconnects by itself; the voter's retry is taken and counted.
        HttpResponseMessage? retry = null;
        await Poll.UntilAsync(async () => (retry = await browser.VoteWithJsonAsync(address, "b")).StatusCode == HttpStatusCode.Accepted,
            TimeSpan.FromSeconds(30), "votes were still refused after Redis came back");
        var voterId = (await Browser.JsonAsync(retry!)).GetProperty("voterId").GetGuid();
        await Poll.UntilAsync(async () => (await system.Database.ReadVotesAsync([voterId])).TryGetValue(voterId, out var row) && row.Option == "b",
            TimeSpan.FromSeconds(60), "the vote taken after the restart was not counted");
    }
}

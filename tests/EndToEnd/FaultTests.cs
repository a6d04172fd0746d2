using System.Globalization;
using System.Net;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>What a voter sees when the front end's Redis is gone or full, and that voting resumes when it is back.</summary>
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

    [Fact]
    public async Task AFullRedisMakesTheFrontEndAnswer503NotAnErrorPageOrASilentDrop()
    {
        await using var redis = await TestServers.StartRedisAsync();
        await using var web = system.Apps.StartWeb("frontend-full", redis.Endpoint);
        await web.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using var browser = new Browser();
        await browser.OpenAsync(web.BaseAddress);
        Assert.Equal(HttpStatusCode.Accepted, (await browser.VoteWithJsonAsync(web.BaseAddress, "a")).StatusCode);

        // Redis is full: it holds more than its maxmemory (noeviction, as ./voting runs it) and refuses writes.
        await using (var connection = await redis.ConnectAsync(allowAdmin: true))
        {
            var database = connection.GetDatabase();
            for (var i = 0; i < 64; i++)
            {
                await database.StreamAddAsync("backlog", "x", new string('x', 16 * 1024));
            }

            var used = (await connection.GetServer(redis.Endpoint).InfoAsync("memory")).SelectMany(g => g).Single(p => p.Key == "used_memory").Value;
            await database.ExecuteAsync("CONFIG", "SET", "maxmemory-policy", "noeviction");
            await database.ExecuteAsync("CONFIG", "SET", "maxmemory", long.Parse(used, CultureInfo.InvariantCulture) / 2);
            var full = await Assert.ThrowsAsync<StackExchange.Redis.RedisServerException>(() => database.StreamAddAsync("backlog", "x", "y"));
            Assert.StartsWith("OOM", full.Message, StringComparison.Ordinal);
        }

        var json = await browser.VoteWithJsonAsync(web.BaseAddress, "b");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, json.StatusCode);
        Assert.NotNull(json.Headers.RetryAfter);
        Assert.Contains("not recorded", (await Browser.JsonAsync(json)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var form = await browser.VoteWithFormAsync(web.BaseAddress, "b");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, form.StatusCode);
        Assert.Contains("<strong>not</strong> recorded", await form.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

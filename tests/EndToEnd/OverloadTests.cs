using System.Globalization;
using System.Net;
using StackExchange.Redis;
using Voting.LoadGen;
using Voting.LoadGen.Auditing;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Testing;
using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// Invariant 4 under overload: a front end beyond its concurrency limit and queue answers 503 with <c>Retry-After</c>
/// and a body saying the vote was not recorded — at once, never a 500 or a timeout — while its health endpoints still
/// answer; a burst far beyond what it takes loses no acknowledged vote; and a front end whose Redis is nearly full says
/// it is not ready before that Redis refuses writes.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class OverloadTests(VotingSystemFixture system, ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A front end of its own (and its own Redis), taking at most <paramref name="limit"/> requests at once and queueing <paramref name="queue"/>.</summary>
    private AppProcess StartLimitedFrontend(string name, RedisServer redis, int limit, int queue) =>
        system.Apps.StartWeb(name, redis.Endpoint, new Dictionary<string, string?>
        {
            ["Overload__ConcurrencyLimit"] = limit.ToString(CultureInfo.InvariantCulture),
            ["Overload__QueueLimit"] = queue.ToString(CultureInfo.InvariantCulture),
        });

    [Fact]
    public async Task AFrontEndBeyondItsLimitAnswers503WithRetryAfterSayingTheVoteWasNotRecordedAndStillAnswersItsHealthChecks()
    {
        await using var redis = await TestServers.StartRedisAsync();
        await using var web = StartLimitedFrontend("frontend-busy", redis, limit: 1, queue: 0);
        await web.WaitReadyAsync(StartTimeout);
        // A voter per vote, each with its page opened one after the other (one place: opened at once, they would be
        // shed): the load is many voters at once, below the per-client limits, so every refusal here is a 503. The one
        // place is released just after the answer is sent, so a page opened right after the last may still find it
        // taken (a CI run did): such a 503 is opened again after its Retry-After.
        var browsers = new List<Browser>();
        for (var i = 0; i < 200; i++)
        {
            var browser = Browser.OfItsOwn();
            browsers.Add(browser);
            Assert.Equal(HttpStatusCode.OK, await OpenUnshedAsync(browser, web.BaseAddress));
        }

        using var health = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        // 100 votes of each kind at once against one place: most find it taken. Health checks go along with them.
        var json = browsers[..100].Select(b => b.VoteWithJsonAsync(web.BaseAddress, "a")).ToArray();
        var form = browsers[100..].Select(b => b.VoteWithFormAsync(web.BaseAddress, "b")).ToArray();
        var pages = browsers[..100].Select(b => b.OpenAsync(web.BaseAddress)).ToArray();
        var checks = Enumerable.Range(0, 20).SelectMany(_ => new[]
        {
            health.GetAsync(new Uri(web.BaseAddress, "health/live")), health.GetAsync(new Uri(web.BaseAddress, "health/ready")),
        }).ToArray();
        await Task.WhenAll([.. json, .. form, .. pages, .. checks]);
        Assert.Contains([.. json, .. form, .. pages], a => a.Result.IsSuccessStatusCode);

        Assert.All(checks, c => Assert.Equal(HttpStatusCode.OK, c.Result.StatusCode));
        foreach (var (kind, answers) in new[] { ("json", json), ("form", form), ("page", pages) })
        {
            var statuses = answers.Select(a => (int)a.Result.StatusCode).ToArray();
            var summary = string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{g.Key}: {g.Count()}"));
            output.WriteLine($"{kind}: {summary}");
            Assert.All(statuses, s => Assert.True(s is 200 or 202 or 503, $"{kind}: {summary}"));
            Assert.Contains(503, statuses);
            Assert.All(answers.Select(a => a.Result).Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable),
                a => Assert.True(a.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"{kind}: a 503 without Retry-After"));
        }

        var shedJson = json.Select(a => a.Result).First(a => a.StatusCode == HttpStatusCode.ServiceUnavailable);
        Assert.Equal("application/problem+json", shedJson.Content.Headers.ContentType?.MediaType);
        var detail = (await Browser.JsonAsync(shedJson)).GetProperty("detail").GetString();
        Assert.Contains("not recorded", detail, StringComparison.Ordinal);
        Assert.Contains("busy", detail, StringComparison.Ordinal);
        var shedForm = await form.Select(a => a.Result).First(a => a.StatusCode == HttpStatusCode.ServiceUnavailable).Content.ReadAsStringAsync();
        Assert.Contains("<strong>not</strong> recorded", shedForm, StringComparison.Ordinal);
        Assert.Contains("busy", shedForm, StringComparison.Ordinal);

        // Counted, by endpoint.
        using var management = TestApps.ManagementClient();
        var metrics = await management.GetStringAsync(new Uri(web.ManagementAddress, "metrics"));
        foreach (var endpoint in new[] { "json", "form", "page" })
        {
            Assert.Matches($"voting_requests_shed_total\\{{[^}}]*endpoint=\"{endpoint}\"[^}}]*\\}} [1-9]", metrics);
        }

        Assert.DoesNotContain("voting_requests_limited_total{", metrics, StringComparison.Ordinal);
        browsers.ForEach(b => b.Dispose());
    }

    /// <summary>Opens the vote page, again after Retry-After while the one place is still taken (503), at most ten times.</summary>
    private static async Task<HttpStatusCode> OpenUnshedAsync(Browser browser, Uri frontend)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var page = await browser.OpenAsync(frontend);
            if (page.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 10)
            {
                return page.StatusCode;
            }

            await Task.Delay(page.Headers.RetryAfter?.Delta is { } delay && delay < TimeSpan.FromSeconds(2) ? delay : TimeSpan.FromMilliseconds(200));
        }
    }

    [Fact]
    public async Task ABurstFarBeyondWhatAFrontEndTakesIsShedWith503AndEveryAcknowledgedVoteIsCountedOnce()
    {
        await using var redis = await TestServers.StartRedisAsync();
        // At most 4 requests handled and 4 waiting: 64 voters at once offer it many times what it takes.
        await using var web = StartLimitedFrontend("frontend-burst", redis, limit: 4, queue: 4);
        await web.WaitReadyAsync(StartTimeout);
        var options = new LoadOptions
        {
            Frontends = [web.BaseAddress],
            Results = system.Results.BaseAddress,
            Postgres = system.ConnectionString,
            Voters = 6000,
            Concurrency = 64,
            Duration = TimeSpan.FromSeconds(15),
            ChangeShare = 0.2,
            DoubleShare = 0.1,
            FormShare = 0.3,
            Seed = 20261201,
            RequestTimeout = TimeSpan.FromSeconds(20),
            DrainTimeout = TimeSpan.FromSeconds(60),
            ProgressInterval = TimeSpan.FromSeconds(5),
        };

        var text = new StringWriter();
        var report = await LoadRun.RunAsync(options, text, CancellationToken.None);
        output.WriteLine(text.ToString());

        var load = report.Load;
        var audit = Assert.IsType<AuditReport>(report.Audit);
        Assert.True(load.Unavailable > 0, "nothing was shed:\n" + text);
        Assert.True(load.Acknowledged > 0, text.ToString());
        Assert.Equal(0, load.UnavailableWithoutRetryAfter);
        Assert.Equal(0, load.OtherServerErrors);
        // Shed at once: no vote waited for the request timeout or lost its connection.
        Assert.Equal(0, load.Errors);
        Assert.True(audit.Passed, text.ToString());
        Assert.Equal(0, audit.Lost);
        Assert.Equal(0, audit.DoubleCounted);
        Assert.Equal(0, audit.WrongChoice);
        Assert.Contains("AUDIT PASSED", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFrontEndWhoseRedisIsNearlyFullIsNotReadyAndReadyAgainOnceThereIsRoom()
    {
        await using var redis = await TestServers.StartRedisAsync();
        await using var web = system.Apps.StartWeb("frontend-nearly-full", redis.Endpoint);
        await web.WaitReadyAsync(StartTimeout);
        // The management port, with the token: there the readiness answer says which check failed and why.
        using var http = TestApps.ManagementClient();
        var ready = new Uri(web.ManagementAddress, "health/ready");

        await using var connection = await redis.ConnectAsync(allowAdmin: true);
        var database = connection.GetDatabase();
        for (var i = 0; i < 64; i++)
        {
            await database.StreamAddAsync("backlog", "x", new string('x', 16 * 1024));
        }

        // Room for a while yet (used is 80 % of maxmemory): ready.
        await database.ExecuteAsync("CONFIG", "SET", "maxmemory", await UsedMemoryAsync(connection, redis) * 100 / 80);
        await Poll.UntilAsync(async () => (await http.GetAsync(ready)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "not ready at 80 % of maxmemory");

        // 95 %: above the 90 % mark, not ready, though it still takes a vote sent to it.
        await database.ExecuteAsync("CONFIG", "SET", "maxmemory", await UsedMemoryAsync(connection, redis) * 100 / 95);
        HttpResponseMessage? answer = null;
        await Poll.UntilAsync(async () => (answer = await http.GetAsync(ready)).StatusCode == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(10), "still ready at 95 % of maxmemory");
        var check = (await Browser.JsonAsync(answer!)).GetProperty("checks").GetProperty("redis");
        Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
        Assert.Contains("nearly full", check.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("Overload:RedisMemoryNotReadyFraction", check.GetProperty("description").GetString(), StringComparison.Ordinal);
        using var browser = new Browser();
        await browser.OpenAsync(web.BaseAddress);
        Assert.Equal(HttpStatusCode.Accepted, (await browser.VoteWithJsonAsync(web.BaseAddress, "a")).StatusCode);

        // No limit: ready again.
        await database.ExecuteAsync("CONFIG", "SET", "maxmemory", 0);
        await Poll.UntilAsync(async () => (await http.GetAsync(ready)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "not ready again without a maxmemory");
    }

    private static async Task<long> UsedMemoryAsync(ConnectionMultiplexer connection, RedisServer redis) => long.Parse(
        (await connection.GetServer(redis.Endpoint).InfoAsync("memory")).SelectMany(g => g).Single(p => p.Key == "used_memory").Value,
        CultureInfo.InvariantCulture);
}

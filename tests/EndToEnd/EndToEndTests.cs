using System.Net;
using System.Text.Json;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>Votes from browsers through both front ends, Redis, the worker silo and PostgreSQL to the results app.</summary>
[Collection(VotingSystemCollection.Name)]
public sealed class EndToEndTests(VotingSystemFixture system)
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    private Uri RandomFrontend(Random random) => system.Frontends[random.Next(system.Frontends.Count)].App.BaseAddress;

    [Fact]
    public async Task VotesFromManyBrowsersOverTwoFrontEndsAreCountedByTheLatestVotePerVoter()
    {
        var expected = new Dictionary<Guid, string>();
        var gate = new SemaphoreSlim(16);
        var voters = Enumerable.Range(0, 200).Select(async seed =>
        {
            await gate.WaitAsync();
            try
            {
                var random = new Random(seed);
                // Many voters: each from an address of its own, as they would come from all over.
                using var browser = Browser.OfItsOwn();
                var first = RandomFrontend(random);
                Assert.Equal(HttpStatusCode.OK, (await browser.OpenAsync(first)).StatusCode);
                string? latest = null;
                for (var vote = 0; vote < 1 + random.Next(3); vote++)
                {
                    var option = random.Next(2) == 0 ? "a" : "b";
                    var frontend = RandomFrontend(random);
                    var response = random.Next(2) == 0
                        ? await browser.VoteWithFormAsync(frontend, option)
                        : await browser.VoteWithJsonAsync(frontend, option);
                    Assert.True(response.IsSuccessStatusCode, $"vote refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    latest = option;
                }

                var voterId = Guid.ParseExact(browser.VoterCookie(first)![..32], "N");
                lock (expected)
                {
                    expected[voterId] = latest!;
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(voters);

        await Poll.UntilAsync(
            async () =>
            {
                var stored = await system.Database.ReadVotesAsync(expected.Keys);
                return expected.All(e => stored.TryGetValue(e.Key, out var row) && row.Option == e.Value);
            },
            DrainTimeout,
            async () =>
            {
                var stored = await system.Database.ReadVotesAsync(expected.Keys);
                return $"{expected.Count(e => !stored.TryGetValue(e.Key, out var row) || row.Option != e.Value)} of {expected.Count} voters not counted as they last voted";
            });

        var (tallies, counted) = await system.Database.ReadTalliesAndCountsAsync();
        Assert.Equal(counted, tallies);

        // The results API reads the tallies: once the pipeline is quiet it reports exactly the rows' counts.
        await Poll.UntilAsync(
            async () =>
            {
                var results = await ReadResultsAsync();
                var counts = await system.Database.CountVotesAsync();
                return results.GetProperty("total").GetInt64() == counts.Values.Sum()
                    && results.GetProperty("options").EnumerateArray().All(o => o.GetProperty("count").GetInt64() == counts.GetValueOrDefault(o.GetProperty("key").GetString()!));
            },
            DrainTimeout,
            "the results API does not report the counts of the votes table");
    }

    [Fact]
    public async Task AVoterWhoChangesTheirVoteOnAnotherFrontEndIsCountedOnceForTheNewChoice()
    {
        using var browser = new Browser();
        var frontend01 = system.Frontends[0].App.BaseAddress;
        var frontend02 = system.Frontends[1].App.BaseAddress;
        await browser.OpenAsync(frontend01);
        var page = await (await browser.VoteWithFormAsync(frontend01, "a")).Content.ReadAsStringAsync();
        Assert.Contains("class=\"chosen\"", page, StringComparison.Ordinal);
        var changed = await browser.VoteWithFormAsync(frontend02, "b");
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Contains("id=\"option-b\" class=\"chosen\"", await changed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var voterId = Guid.ParseExact(browser.VoterCookie(frontend01)![..32], "N");
        await Poll.UntilAsync(async () => (await system.Database.ReadVotesAsync([voterId])).TryGetValue(voterId, out var row) && row.Option == "b",
            DrainTimeout, "the changed vote was not counted");
        Assert.Equal("frontend02", (await system.Database.ReadVotesAsync([voterId]))[voterId].FrontendId);
    }

    [Fact]
    public async Task TheJsonApiAnswers202WithTheVoteIdAndVoterId()
    {
        using var browser = new Browser();
        var frontend = system.Frontends[0].App.BaseAddress;
        await browser.OpenAsync(frontend);
        var response = await browser.VoteWithJsonAsync(frontend, "b");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var receipt = await Browser.JsonAsync(response);
        var voteId = receipt.GetProperty("voteId").GetGuid();
        Assert.Equal(7, voteId.Version);
        Assert.Equal(Guid.ParseExact(browser.VoterCookie(frontend)![..32], "N"), receipt.GetProperty("voterId").GetGuid());
        Assert.Equal("frontend01", receipt.GetProperty("frontendId").GetString());

        await Poll.UntilAsync(async () => (await system.Database.ReadVotesAsync([receipt.GetProperty("voterId").GetGuid()])).Values.Any(v => v.VoteId == voteId),
            DrainTimeout, "the vote id in PostgreSQL is not the one the voter was given");
    }

    [Fact]
    public async Task TheVotePageSaysWhichHostAndFrontEndProcessedTheRequest()
    {
        using var browser = new Browser();
        var page = await (await browser.OpenAsync(system.Frontends[1].App.BaseAddress)).Content.ReadAsStringAsync();
        Assert.Contains($"Vote processed by {Environment.MachineName} (frontend02)", page, StringComparison.Ordinal);
        Assert.Contains(">Cats</button>", page, StringComparison.Ordinal);
        Assert.Contains(">Dogs</button>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheResultsApiReportsEachOptionWithLabelCountAndPercent()
    {
        var results = await ReadResultsAsync();
        var options = results.GetProperty("options").EnumerateArray().ToArray();
        Assert.Equal(["a", "b"], options.Select(o => o.GetProperty("key").GetString()));
        Assert.Equal(["Cats", "Dogs"], options.Select(o => o.GetProperty("label").GetString()));
        var total = results.GetProperty("total").GetInt64();
        Assert.Equal(total, options.Sum(o => o.GetProperty("count").GetInt64()));
        if (total > 0)
        {
            Assert.InRange(options.Sum(o => o.GetProperty("percent").GetDouble()), 99.8, 100.2);
        }

        Assert.True(results.GetProperty("readAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task TheResultsPageIsServedWithItsLiveFeed()
    {
        using var http = new HttpClient { BaseAddress = system.Results.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var page = await http.GetStringAsync("/");
        Assert.Contains("<script src=\"/results.js\"", page, StringComparison.Ordinal);
        Assert.Contains("EventSource", await http.GetStringAsync("/results.js"), StringComparison.Ordinal);

        using var stream = await http.GetStreamAsync("/api/results/stream");
        using var reader = new StreamReader(stream);
        Assert.Equal("event: results", await reader.ReadLineAsync());
        var data = await reader.ReadLineAsync();
        Assert.StartsWith("data: ", data, StringComparison.Ordinal);
        Assert.True(JsonDocument.Parse(data!["data: ".Length..]).RootElement.TryGetProperty("total", out _));
    }

    [Fact]
    public async Task TheResultsAppReportsEachFrontEndsBacklogFromTheCluster()
    {
        using var http = new HttpClient { BaseAddress = system.Results.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var management = TestApps.ManagementClient();
        management.BaseAddress = system.Results.ManagementAddress;
        JsonElement pipeline = default;
        await Poll.UntilAsync(async () =>
            {
                var response = await management.GetAsync("/api/pipeline");
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return false;
                }

                pipeline = await Browser.JsonAsync(response);
                return pipeline.GetProperty("frontends").GetArrayLength() >= 3;
            },
            TimeSpan.FromSeconds(60), "the results app does not list the front ends' queues");
        var frontend = pipeline.GetProperty("frontends").EnumerateArray().Single(f => f.GetProperty("frontendId").GetString() == "frontend01");
        Assert.True(frontend.GetProperty("waiting").GetInt64() >= 0);
        Assert.StartsWith("S127.0.0.1:", frontend.GetProperty("drainedBy").GetString(), StringComparison.Ordinal);

        using var stream = await http.GetStreamAsync("/api/results/stream");
        using var reader = new StreamReader(stream);
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null && line != "event: pipeline")
        {
        }

        Assert.Equal("event: pipeline", line);
        // The page's public view: the numbers, not which silo drains a front end or why a drain fails.
        var data = await reader.ReadLineAsync();
        Assert.Contains("\"frontends\"", data, StringComparison.Ordinal);
        Assert.DoesNotContain("drainedBy", data, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryProcessAnswersLiveAndReady()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var app in system.Frontends.Select(f => f.App).Append(system.Worker).Append(system.Results))
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(app.BaseAddress, "health/live"))).StatusCode);
            var ready = await http.GetAsync(new Uri(app.BaseAddress, "health/ready"));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        // Each check's details are the operator's: on the management port, with the token.
        using var management = TestApps.ManagementClient();
        var worker = await Browser.JsonAsync(await management.GetAsync(new Uri(system.Worker.ManagementAddress, "health/ready")));
        Assert.Equal(["cluster", "postgres", "schema"], worker.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order());
    }

    [Fact]
    public async Task TheWorkerSiloServesTheOrleansDashboard()
    {
        using var http = TestApps.ManagementClient();
        http.BaseAddress = system.Worker.ManagementAddress;
        Assert.Contains("<html", await http.GetStringAsync("/dashboard/"), StringComparison.OrdinalIgnoreCase);
        // The dashboard collects the silos' figures every few seconds: right after start-up it may know fewer.
        await Poll.UntilAsync(
            async () => (await Browser.JsonAsync(await http.GetAsync("/dashboard/DashboardCounters"))).GetProperty("hosts").GetArrayLength() >= 3,
            TimeSpan.FromSeconds(30),
            "the dashboard does not list the worker and both web silos");
    }

    [Fact]
    public async Task TheWorkerSiloListsTheFrontEndsAndRefusesToRetireOneThatRuns()
    {
        using var http = TestApps.ManagementClient();
        http.BaseAddress = system.Worker.ManagementAddress;
        var frontends = await Browser.JsonAsync(await http.GetAsync("/api/frontends"));
        Assert.Contains(frontends.EnumerateArray(), f => f.GetProperty("frontendId").GetString() == "frontend01");

        using var unknown = await http.DeleteAsync("/api/frontends/frontend99");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("No front end 'frontend99' is registered", (await Browser.JsonAsync(unknown)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var badFlag = await http.DeleteAsync("/api/frontends/frontend01?force=maybe");
        Assert.Equal(HttpStatusCode.BadRequest, badFlag.StatusCode);
        Assert.Contains("force must be true or false", (await Browser.JsonAsync(badFlag)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // frontend01 runs and registers itself every 30 s: retiring it would not stick, and the answer says why.
        using var running = await http.DeleteAsync("/api/frontends/frontend01");
        Assert.Equal(HttpStatusCode.Conflict, running.StatusCode);
        Assert.Contains("may still run", (await Browser.JsonAsync(running)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains((await Browser.JsonAsync(await http.GetAsync("/api/frontends"))).EnumerateArray(), f => f.GetProperty("frontendId").GetString() == "frontend01");
        Assert.Contains(frontends.EnumerateArray(), f => f.GetProperty("frontendId").GetString() == "frontend01");
    }

    [Fact]
    public async Task FrontEndsAndWorkersExposeTheirMetricsForPrometheus()
    {
        using var browser = new Browser();
        var frontend = system.Frontends[0].App.BaseAddress;
        await browser.OpenAsync(frontend);
        Assert.Equal(HttpStatusCode.Accepted, (await browser.VoteWithJsonAsync(frontend, "a")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.VoteWithJsonAsync(frontend, "nope")).StatusCode);

        // Metrics are a management surface: the management port, with the token.
        frontend = system.Frontends[0].App.ManagementAddress;
        using var http = TestApps.ManagementClient();
        // The exporter collects on its own schedule: wait until the votes show.
        await Poll.UntilAsync(async () =>
            {
                var web = await http.GetStringAsync(new Uri(frontend, "metrics"));
                return HasSeries(web, "voting_votes_accepted_total", "channel=\"json\"") && HasSeries(web, "voting_votes_refused_total", "status=\"400\"");
            },
            TimeSpan.FromSeconds(30),
            async () => "the front end's metrics do not count the votes:\n" + VotingLines(await http.GetStringAsync(new Uri(frontend, "metrics"))));
        await Poll.UntilAsync(async () =>
            {
                var worker = await http.GetStringAsync(new Uri(system.Worker.ManagementAddress, "metrics"));
                return HasSeries(worker, "voting_drain_backlog", "frontend=\"frontend01\"") && HasSeries(worker, "voting_verdicts_total", "verdict=\"New\"");
            },
            TimeSpan.FromSeconds(30),
            async () => "the worker's metrics do not show the drainers' backlog:\n" + VotingLines(await http.GetStringAsync(new Uri(system.Worker.ManagementAddress, "metrics"))));
    }

    private static bool HasSeries(string metrics, string name, string label) =>
        metrics.Split('\n').Any(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));

    private static string VotingLines(string metrics) =>
        string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("voting", StringComparison.Ordinal)).Take(20));

    private async Task<JsonElement> ReadResultsAsync()
    {
        using var http = new HttpClient { BaseAddress = system.Results.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var response = await http.GetAsync("/api/results");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Browser.JsonAsync(response);
    }
}

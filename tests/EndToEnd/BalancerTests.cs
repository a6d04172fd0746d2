using System.Net;
using System.Text.Json;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The load balancer in front of the front ends: it routes to what the cluster's registry lists, only to front ends that
/// answer ready, and answers for itself — 503 with a reason — when none can take a vote.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class BalancerTests(VotingSystemFixture system) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly HttpClient _management = TestApps.ManagementClient();

    private Uri Balancer => system.Balancer.BaseAddress;

    public void Dispose()
    {
        _http.Dispose();
        _management.Dispose();
    }

    [Fact]
    public async Task TheBalancerSpreadsVotersOverEveryRegisteredFrontEnd()
    {
        string[] expected = ["frontend01", "frontend02", "frontend03"];
        await WaitUntilRoutedAsync(expected, available: true);

        var seen = new HashSet<string>();
        for (var i = 0; i < 100 && !seen.IsSupersetOf(expected); i++)
        {
            using var browser = new Browser();
            var page = await (await browser.OpenAsync(Balancer)).Content.ReadAsStringAsync();
            seen.Add(Browser.ProcessedBy(page));
        }

        Assert.Superset(expected.ToHashSet(), seen);
    }

    [Fact]
    public async Task AVoterMovedBetweenFrontEndsByTheBalancerIsCountedOnceForTheirLatestChoice()
    {
        using var browser = new Browser();
        Assert.Equal(HttpStatusCode.OK, (await browser.OpenAsync(Balancer)).StatusCode);
        var tookVotes = new HashSet<string>();
        JsonElement receipt = default;
        for (var i = 0; i < 12; i++)
        {
            var option = i % 2 == 0 ? "a" : "b";
            if (i % 3 == 0)
            {
                Assert.Equal(HttpStatusCode.OK, (await browser.VoteWithFormAsync(Balancer, option)).StatusCode);
                continue;
            }

            var response = await browser.VoteWithJsonAsync(Balancer, option);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            receipt = await Browser.JsonAsync(response);
            tookVotes.Add(receipt.GetProperty("frontendId").GetString()!);
        }

        // The last vote (i = 11) was "b", through the JSON API.
        Assert.True(tookVotes.Count > 1, $"every vote went to {string.Join(", ", tookVotes)}");
        var voterId = receipt.GetProperty("voterId").GetGuid();
        var lastVote = receipt.GetProperty("voteId").GetGuid();
        await Poll.UntilAsync(
            async () => (await system.Database.ReadVotesAsync([voterId])).TryGetValue(voterId, out var row) && row.VoteId == lastVote,
            TimeSpan.FromSeconds(60),
            "the voter's latest vote was not counted");
        var stored = (await system.Database.ReadVotesAsync([voterId]))[voterId];
        Assert.Equal("b", stored.Option);
        Assert.Equal(receipt.GetProperty("frontendId").GetString(), stored.FrontendId);
    }

    [Fact]
    public async Task AFrontEndWhoseRedisIsDownIsTakenOutOfRotationAndBackWhenItRecovers()
    {
        await WaitUntilRoutedAsync(["frontend03"], available: true);
        await system.Faulty.Redis.KillAsync();
        try
        {
            await WaitUntilRoutedAsync(["frontend03"], available: false);
            for (var i = 0; i < 20; i++)
            {
                // 20 voters, each from an address of its own (one voter's 20 votes would meet the per-voter limit).
                using var browser = Browser.OfItsOwn();
                await browser.OpenAsync(Balancer);
                var response = await browser.VoteWithJsonAsync(Balancer, "a");
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                Assert.NotEqual("frontend03", (await Browser.JsonAsync(response)).GetProperty("frontendId").GetString());
            }
        }
        finally
        {
            await system.Faulty.Redis.RestartAsync();
        }

        await WaitUntilRoutedAsync(["frontend03"], available: true);
    }

    [Fact]
    public async Task WithNoFrontEndToRouteToTheBalancerAnswers503WithAReasonAndIsNotReady()
    {
        // A balancer of a cluster nobody runs: it never hears of a front end.
        await using var lonely = system.Apps.StartBalancer("balancer-alone", new Dictionary<string, string?> { ["Clustering__ClusterId"] = "nobody-runs-this" });
        await Poll.UntilAsync(async () => await StatusOfAsync(new Uri(lonely.BaseAddress, "health/live")) == HttpStatusCode.OK,
            TimeSpan.FromSeconds(60), "the balancer did not start");

        using var browser = new Browser();
        var page = await browser.OpenAsync(lonely.BaseAddress);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
        Assert.True(page.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Contains("not recorded", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var api = await browser.VoteWithJsonAsync(lonely.BaseAddress, "a");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
        var problem = await Browser.JsonAsync(api);
        Assert.Equal("no-frontend", problem.GetProperty("reason").GetString());
        Assert.Contains("not recorded", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await StatusOfAsync(new Uri(lonely.BaseAddress, "health/ready")));
    }

    [Fact]
    public async Task AVoteAFrontEndRefusesWith503IsTakenByAnotherBeforeTheHealthChecksNotice()
    {
        // frontend01 and frontend03 only, checked once in ten minutes: frontend03 stays in the rotation after its
        // Redis dies, so the votes sent to it are answered 503 by it.
        await using var balancer = system.Apps.StartBalancer("balancer-slow-checks", new Dictionary<string, string?>
        {
            ["Clustering__ClusterId"] = "nobody-runs-this",
            ["Balancer__Frontends__frontend01"] = system.Frontends[0].App.BaseAddress.ToString(),
            ["Balancer__Frontends__frontend03"] = system.Faulty.App.BaseAddress.ToString(),
            ["Balancer__HealthCheckInterval"] = "00:10:00",
        });
        await balancer.WaitReadyAsync(TimeSpan.FromSeconds(60));
        // 30 voters, each from an address of its own (one voter's 30 votes would meet the per-voter limit).
        var browsers = Enumerable.Range(0, 30).Select(_ => Browser.OfItsOwn()).ToList();
        foreach (var each in browsers)
        {
            await each.OpenAsync(balancer.BaseAddress);
        }

        await system.Faulty.Redis.KillAsync();
        try
        {
            for (var i = 0; i < 30; i++)
            {
                using var browser = browsers[i];
                var vote = await browser.VoteWithJsonAsync(balancer.BaseAddress, i % 2 == 0 ? "a" : "b");
                Assert.Equal(HttpStatusCode.Accepted, vote.StatusCode);
                Assert.Equal("frontend01", (await Browser.JsonAsync(vote)).GetProperty("frontendId").GetString());
            }
        }
        finally
        {
            await system.Faulty.Redis.RestartAsync();
        }

        Assert.Contains("frontend03 could not take the request (frontend-503", balancer.Process.Tail(400), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABalancerThatCannotReadTheRegistryRoutesToTheFrontEndsItWasGiven()
    {
        // Started while no worker silo is up (here: a cluster nobody runs), with frontend01 configured.
        await using var seeded = system.Apps.StartBalancer("balancer-seeded", new Dictionary<string, string?>
        {
            ["Clustering__ClusterId"] = "nobody-runs-this",
            ["Balancer__Frontends__frontend01"] = system.Frontends[0].App.BaseAddress.ToString(),
        });
        await seeded.WaitReadyAsync(TimeSpan.FromSeconds(60));

        using var browser = new Browser();
        await browser.OpenAsync(seeded.BaseAddress);
        var vote = await browser.VoteWithJsonAsync(seeded.BaseAddress, "b");
        Assert.Equal(HttpStatusCode.Accepted, vote.StatusCode);
        Assert.Equal("frontend01", (await Browser.JsonAsync(vote)).GetProperty("frontendId").GetString());
        var status = JsonDocument.Parse(await _management.GetStringAsync(new Uri(seeded.ManagementAddress, "balancer/frontends"))).RootElement;
        Assert.Contains("Not connected", status.GetProperty("problem").GetString(), StringComparison.Ordinal);
    }

    private async Task<HttpStatusCode> StatusOfAsync(Uri address)
    {
        try
        {
            using var response = await _http.GetAsync(address);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private Task WaitUntilRoutedAsync(IEnumerable<string> frontendIds, bool available)
    {
        var ids = frontendIds.ToArray();
        var last = "";
        return Poll.UntilAsync(
            async () =>
            {
                last = await _management.GetStringAsync(new Uri(system.Balancer.ManagementAddress, "balancer/frontends"));
                var routes = JsonDocument.Parse(last).RootElement.GetProperty("frontends").EnumerateArray()
                    .ToDictionary(f => f.GetProperty("id").GetString()!, f => f.GetProperty("available").GetBoolean());
                return ids.All(id => routes.TryGetValue(id, out var isAvailable) && isAvailable == available);
            },
            Patience,
            () => Task.FromResult($"the balancer does not show {string.Join(", ", ids)} as {(available ? "available" : "out of rotation")}: {last}"));
    }
}

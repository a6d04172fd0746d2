using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Voting.LoadGen;
using Voting.LoadGen.Auditing;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Testing;
using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// Invariant 4's 429: identities come only from the vote page, rate-limited per client address (an IPv4 address, an
/// IPv6 /64); votes are rate-limited per address and per voter; a limited request is answered 429 with
/// <c>Retry-After</c> and a page or problem saying the vote was not recorded, apart from the 503 of an overloaded front
/// end. The address is the client's as a trusted proxy (the balancer) reports it, and only a trusted one: a forwarded
/// header from anywhere else changes nothing. Each test has a front end (and Redis) of its own, with small limits
/// that never refill during the test (one permit a day), so that nothing depends on timing.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class BallotStuffingTests(VotingSystemFixture system, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private const string OneADay = "1.00:00:00";
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(15) };

    public void Dispose() => _http.Dispose();

    /// <summary>A front end of its own whose <paramref name="limit"/> bucket holds <paramref name="permits"/> and refills one a day.</summary>
    private async Task<(AppProcess Web, RedisServer Redis)> StartAsync(string name, string limit, int permits, Dictionary<string, string?>? more = null)
    {
        var redis = await TestServers.StartRedisAsync();
        var settings = new Dictionary<string, string?>
        {
            [$"Limits__{limit}__Permits"] = permits.ToString(CultureInfo.InvariantCulture),
            [$"Limits__{limit}__Refill"] = "1",
            [$"Limits__{limit}__Period"] = OneADay,
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        var web = system.Apps.StartWeb(name, redis.Endpoint, settings);
        await web.WaitReadyAsync(StartTimeout);
        return (web, redis);
    }

    private async Task<HttpResponseMessage> OpenAsync(Uri frontend, string? forwardedFor, string? cookie = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, frontend);
        Headers(request, forwardedFor, cookie);
        return await _http.SendAsync(request);
    }

    private async Task<HttpResponseMessage> VoteAsync(Uri frontend, string cookie, string? forwardedFor, string option = "a", bool form = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, form ? frontend : new Uri(frontend, "api/votes"))
        {
            Content = form ? new FormUrlEncodedContent([new KeyValuePair<string, string>("vote", option)]) : JsonContent.Create(new { option }),
        };
        Headers(request, forwardedFor, cookie);
        return await _http.SendAsync(request);
    }

    private static void Headers(HttpRequestMessage request, string? forwardedFor, string? cookie)
    {
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }
    }

    /// <summary>The voter cookie an answer set, as a <c>Cookie</c> header value, or null.</summary>
    private static string? CookieOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.FirstOrDefault(c => c.StartsWith("voter_id=", StringComparison.Ordinal))?.Split(';')[0] : null;

    /// <summary>An identity issued to <paramref name="forwardedFor"/> by the vote page.</summary>
    private async Task<string> IdentityAsync(Uri frontend, string? forwardedFor)
    {
        using var page = await OpenAsync(frontend, forwardedFor);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return CookieOf(page) ?? throw new InvalidOperationException("the vote page issued no voter cookie");
    }

    private static void AssertRetryAfter(HttpResponseMessage response, TimeSpan atMost)
    {
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } delta && delta >= TimeSpan.FromSeconds(1) && delta <= atMost, $"Retry-After {retryAfter?.ToString() ?? "missing"}");
    }

    /// <summary>The front end's metrics, on its management port with the token.</summary>
    private static async Task<string> MetricsAsync(AppProcess web)
    {
        using var management = TestApps.ManagementClient();
        return await management.GetStringAsync(new Uri(web.ManagementAddress, "metrics"));
    }

    [Fact]
    public async Task TheVotePageIssuesIdentitiesToAnAddressUpToItsLimitThenAnswers429AndAReturningVoterIsNeverLimited()
    {
        var (web, redis) = await StartAsync("frontend-identities", "Identities", permits: 3);
        await using var __ = redis;
        await using var _ = web;
        var address = web.BaseAddress;

        var first = await IdentityAsync(address, "198.51.100.10");
        await IdentityAsync(address, "198.51.100.10");
        await IdentityAsync(address, "198.51.100.10");
        using var limited = await OpenAsync(address, "198.51.100.10");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Null(CookieOf(limited));
        AssertRetryAfter(limited, TimeSpan.FromDays(1));
        Assert.Equal("text/html", limited.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Too many new voters", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A tampered cookie is no identity: it mints a new one, so it is limited like none.
        using var tampered = await OpenAsync(address, "198.51.100.10", first[..^2] + "xx");
        Assert.Equal(HttpStatusCode.TooManyRequests, tampered.StatusCode);

        // The voter who already has an identity is not minting one: never limited, and it still votes.
        using (var returning = await OpenAsync(address, "198.51.100.10", first))
        {
            Assert.Equal(HttpStatusCode.OK, returning.StatusCode);
            Assert.Null(CookieOf(returning));
        }

        Assert.Equal(HttpStatusCode.Accepted, (await VoteAsync(address, first, "198.51.100.10")).StatusCode);

        // Another address has a bucket of its own; health, the options and (on the management port) metrics are
        // never limited.
        await IdentityAsync(address, "198.51.100.11");
        foreach (var path in new[] { "health/live", "health/ready", "api/options" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(address, path));
            request.Headers.Add("X-Forwarded-For", "198.51.100.10");
            Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(request)).StatusCode);
        }

        using (var management = TestApps.ManagementClient())
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri(web.ManagementAddress, "metrics")))
        {
            request.Headers.Add("X-Forwarded-For", "198.51.100.10");
            Assert.Equal(HttpStatusCode.OK, (await management.SendAsync(request)).StatusCode);
        }

        Assert.Matches("voting_requests_limited_total\\{[^}]*limit=\"identity\"[^}]*\\} 2", await MetricsAsync(web));
    }

    [Fact]
    public async Task VotesFromOneAddressBeyondItsLimitAreAnswered429AndNotRecordedWhileAnotherAddressStillVotes()
    {
        var (web, redis) = await StartAsync("frontend-address-votes", "AddressVotes", permits: 5);
        await using var __ = redis;
        await using var _ = web;
        var address = web.BaseAddress;

        // Seven voters behind one address (identities may come from anywhere).
        var voters = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            voters.Add(await IdentityAsync(address, "203.0.113.7"));
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await VoteAsync(address, voters[i], "203.0.113.7")).StatusCode);
        }

        using var json = await VoteAsync(address, voters[5], "203.0.113.7");
        Assert.Equal(HttpStatusCode.TooManyRequests, json.StatusCode);
        AssertRetryAfter(json, TimeSpan.FromDays(1));
        Assert.Equal("application/problem+json", json.Content.Headers.ContentType?.MediaType);
        var problem = await Browser.JsonAsync(json);
        Assert.Contains("not recorded", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("address", problem.GetProperty("limit").GetString());

        using var form = await VoteAsync(address, voters[6], "203.0.113.7", "b", form: true);
        Assert.Equal(HttpStatusCode.TooManyRequests, form.StatusCode);
        AssertRetryAfter(form, TimeSpan.FromDays(1));
        Assert.Contains("<strong>not</strong> recorded", await form.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The same voter from another address is not behind that limit.
        Assert.Equal(HttpStatusCode.Accepted, (await VoteAsync(address, voters[5], "203.0.113.8")).StatusCode);

        // Not recorded: only the six votes taken are in the front end's stream.
        await using var connection = await redis.ConnectAsync();
        Assert.Equal(6, await connection.GetDatabase().StreamLengthAsync("votes"));
        Assert.Matches("voting_requests_limited_total\\{[^}]*limit=\"address\"[^}]*\\} 2", await MetricsAsync(web));
    }

    [Fact]
    public async Task AVoterBeyondTheirLimitIsAnswered429FromWhicheverAddressTheyVote()
    {
        var (web, redis) = await StartAsync("frontend-voter-votes", "VoterVotes", permits: 3);
        await using var __ = redis;
        await using var _ = web;
        var address = web.BaseAddress;

        var cookie = await IdentityAsync(address, "198.51.100.20");
        foreach (var (from, option) in new[] { ("198.51.100.20", "a"), ("198.51.100.21", "b"), ("2001:db8:20::1", "a") })
        {
            using var vote = await VoteAsync(address, cookie, from, option);
            Assert.Equal(HttpStatusCode.Accepted, vote.StatusCode);
            // The next vote names this one (the cookie it set), as a browser's would.
            cookie = CookieOf(vote) ?? cookie;
        }

        using var limited = await VoteAsync(address, cookie, "198.51.100.22", "b");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        AssertRetryAfter(limited, TimeSpan.FromDays(1));
        Assert.Equal("voter", (await Browser.JsonAsync(limited)).GetProperty("limit").GetString());

        // Another voter at the same address is not limited by it.
        var other = await IdentityAsync(address, "198.51.100.22");
        Assert.Equal(HttpStatusCode.Accepted, (await VoteAsync(address, other, "198.51.100.22")).StatusCode);
        Assert.Matches("voting_requests_limited_total\\{[^}]*limit=\"voter\"[^}]*\\} 1", await MetricsAsync(web));
    }

    [Fact]
    public async Task AnIPv6Slash64IsOneClientAndAnIPv4MappedAddressIsItsIPv4Address()
    {
        var (web, redis) = await StartAsync("frontend-ipv6", "Identities", permits: 2);
        await using var __ = redis;
        await using var _ = web;
        var address = web.BaseAddress;

        // Three addresses in 2001:db8:1:2::/64: one bucket of two.
        await IdentityAsync(address, "2001:db8:1:2::1");
        await IdentityAsync(address, "2001:db8:1:2:ffff:ffff:ffff:ffff");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await OpenAsync(address, "2001:db8:1:2:abcd::5")).StatusCode);
        // The next /64 is another client.
        await IdentityAsync(address, "2001:db8:1:3::1");

        // ::ffff:198.51.100.30 is 198.51.100.30.
        await IdentityAsync(address, "198.51.100.30");
        await IdentityAsync(address, "::ffff:198.51.100.30");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await OpenAsync(address, "198.51.100.30")).StatusCode);
        await IdentityAsync(address, "198.51.100.31");
    }

    [Fact]
    public async Task AForwardedAddressFromAnUntrustedHopChangesNothing()
    {
        // This front end trusts only 10.0.0.0/8 as proxies: the test, on 127.0.0.1, is a client like any other.
        var (web, redis) = await StartAsync("frontend-untrusting", "Identities", permits: 3,
            new Dictionary<string, string?> { ["Edge__TrustedProxies__0"] = "10.0.0.0/8" });
        await using var __ = redis;
        await using var _ = web;
        var address = web.BaseAddress;

        // Four different claimed addresses, one client: its own address, 127.0.0.1, and one bucket of three.
        await IdentityAsync(address, "198.51.100.40");
        await IdentityAsync(address, "198.51.100.41");
        await IdentityAsync(address, "198.51.100.42, 198.51.100.43");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await OpenAsync(address, "198.51.100.44")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await OpenAsync(address, null)).StatusCode);
    }

    [Fact]
    public async Task ThroughTheBalancerTheFrontEndsLimitTheOriginalClientsAddressNotTheBalancers()
    {
        // The shared system's balancer and front ends, at their default limits: one client address mints identities
        // through the balancer until it is limited; another address is not. Were the limit keyed on the address the
        // front ends see the balancer at, both would share it.
        var balancer = system.Balancer.BaseAddress;
        var stuffer = ClientAddresses.Next();
        HttpResponseMessage? limited = null;
        var identities = 0;
        for (var i = 0; i < 20_000 && limited is null; i++)
        {
            var page = await OpenAsync(balancer, stuffer);
            if (page.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = page;
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                identities++;
                page.Dispose();
            }
        }

        output.WriteLine($"{identities} identities before the first 429");
        Assert.NotNull(limited);
        AssertRetryAfter(limited, TimeSpan.FromMinutes(1));
        limited.Dispose();
        Assert.NotNull(await IdentityAsync(balancer, ClientAddresses.Next()));
        // A spoofed X-Forwarded-For from the client does not reach the front ends as its address: the balancer
        // believes it only because this client is on loopback (trusted); from an untrusted client it sets the header
        // to the connection's address (see AForwardedAddressFromAnUntrustedHopChangesNothing for the front end's side).
    }

    [Fact]
    public async Task LimitedRequestsAre429AndNeverTakeAPlaceWhileAnOverloadedFrontEndSheds503()
    {
        // One place, no queue, and 100 votes per address: 200 votes at once from one address.
        var (web, redis) = await StartAsync("frontend-limited-and-busy", "AddressVotes", permits: 100, new Dictionary<string, string?>
        {
            ["Overload__ConcurrencyLimit"] = "1",
            ["Overload__QueueLimit"] = "0",
        });
        await using var __ = redis;
        await using var _ = web;
        var address = web.BaseAddress;
        var voters = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            voters.Add(await IdentityAsync(address, "203.0.113.50"));
        }

        var answers = await Task.WhenAll(voters.Select(v => VoteAsync(address, v, "203.0.113.50")));
        var statuses = answers.Select(a => (int)a.StatusCode).ToArray();
        var summary = string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
        output.WriteLine(summary);
        Assert.All(statuses, s => Assert.True(s is 202 or 429 or 503, summary));
        // Exactly the bucket's 100 got past the address limit; of those, the ones that found the place taken were shed.
        Assert.Equal(100, statuses.Count(s => s == 429));
        Assert.Equal(100, statuses.Count(s => s is 202 or 503));
        Assert.Contains(503, statuses);

        var limited = answers.First(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Contains("too many votes", (await Browser.JsonAsync(limited)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var shed = answers.First(a => a.StatusCode == HttpStatusCode.ServiceUnavailable);
        Assert.Contains("busy", (await Browser.JsonAsync(shed)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.All(answers.Where(a => (int)a.StatusCode is 429 or 503), a => Assert.NotNull(a.Headers.RetryAfter));

        var metrics = await MetricsAsync(web);
        Assert.Matches("voting_requests_limited_total\\{[^}]*limit=\"address\"[^}]*\\} 100", metrics);
        Assert.Matches("voting_requests_shed_total\\{[^}]*endpoint=\"json\"[^}]*\\} [1-9]", metrics);
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task TheStuffingScenarioFromOneClientGetsNoMoreIdentitiesThanTheDefaultLimitsAllowAndEveryVoteItWasPromisedIsCounted()
    {
        // A front end at the production defaults: 300 identities at once per address, 5 a second after that.
        await using var redis = await TestServers.StartRedisAsync();
        await using var web = system.Apps.StartWeb("frontend-stuffed", redis.Endpoint);
        await web.WaitReadyAsync(StartTimeout);
        var options = new LoadOptions
        {
            Scenario = LoadScenario.Stuffing,
            Frontends = [web.BaseAddress],
            Results = system.Results.BaseAddress,
            Postgres = system.ConnectionString,
            Voters = 3000,
            Concurrency = 16,
            Duration = TimeSpan.FromSeconds(20),
            RequestTimeout = TimeSpan.FromSeconds(20),
            DrainTimeout = TimeSpan.FromSeconds(60),
            ProgressInterval = TimeSpan.FromSeconds(5),
        };

        var text = new StringWriter();
        var report = await LoadRun.RunAsync(options, text, CancellationToken.None);
        output.WriteLine(text.ToString());

        var load = report.Load;
        var audit = Assert.IsType<AuditReport>(report.Audit);
        var allowed = 300 + (int)Math.Ceiling(5 * load.Elapsed.TotalSeconds) + 1;
        Assert.InRange(load.Pages, 1, allowed);
        Assert.True(load.PagesLimited > 0, text.ToString());
        Assert.Equal(0, load.LimitedWithoutRetryAfter);
        Assert.Equal(0, load.RefusedByStatus.Where(s => s.Key >= 500).Sum(s => s.Value));
        Assert.Equal(0, load.Errors);
        Assert.InRange(load.Acknowledged, 1, load.Pages);
        Assert.True(audit.Passed, text.ToString());
        Assert.Equal(audit.Acknowledged, audit.Counted);
        Assert.Contains("Stuffing from one client: identities obtained", text.ToString(), StringComparison.Ordinal);
    }
}

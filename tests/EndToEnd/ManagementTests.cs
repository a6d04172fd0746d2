using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Voting.Local.Applications;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The management surfaces of the running system answer on each process's management port only, and only with the
/// management token; the health probes answer everywhere without one, their details on the management port with it;
/// the public answers name no internal address and show no exception text.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed partial class ManagementTests(VotingSystemFixture system) : IDisposable
{
    private readonly HttpClient _anonymous = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly HttpClient _operator = TestApps.ManagementClient();

    public void Dispose()
    {
        _anonymous.Dispose();
        _operator.Dispose();
    }

    /// <summary>Every management surface, by the process that serves it: (process, method, path).</summary>
    private IEnumerable<(AppProcess App, HttpMethod Method, string Path)> Surfaces() =>
    [
        (system.Worker, HttpMethod.Get, "dashboard/"),
        (system.Worker, HttpMethod.Get, "dashboard/DashboardCounters"),
        (system.Worker, HttpMethod.Get, "api/drainers"),
        (system.Worker, HttpMethod.Get, "api/frontends"),
        (system.Worker, HttpMethod.Delete, "api/frontends/frontend99"),
        (system.Worker, HttpMethod.Get, "metrics"),
        (system.Frontends[0].App, HttpMethod.Get, "metrics"),
        (system.Balancer, HttpMethod.Get, "balancer/frontends"),
        (system.Balancer, HttpMethod.Get, "metrics"),
        (system.Results, HttpMethod.Get, "api/pipeline"),
        (system.Results, HttpMethod.Get, "metrics"),
    ];

    private IEnumerable<AppProcess> Applications() => [system.Worker, system.Frontends[0].App, system.Balancer, system.Results];

    [Fact]
    public async Task EveryManagementSurfaceAnswersOnlyOnTheManagementPortAndOnlyWithTheToken()
    {
        foreach (var (app, method, path) in Surfaces())
        {
            var name = $"{method} {app.Process.Name} /{path}";

            // The public port has no such endpoint, with a token or without (the balancer proxies the path to a
            // front end, whose public port has none either).
            foreach (var token in (string?[])[null, TestApps.ManagementToken])
            {
                using var onPublic = await SendAsync(method, new Uri(app.BaseAddress, path), token);
                Assert.True(onPublic.StatusCode == HttpStatusCode.NotFound, $"{name} on the public port with{(token is null ? "out" : "")} the token: {(int)onPublic.StatusCode}");
                Assert.DoesNotContain("registered", await onPublic.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            var address = new Uri(app.ManagementAddress, path);
            using var without = await SendAsync(method, address, token: null);
            Assert.True(without.StatusCode == HttpStatusCode.Unauthorized, $"{name} without a token: {(int)without.StatusCode}");
            Assert.Equal("Bearer", without.Headers.WwwAuthenticate.Single().Scheme);

            using var wrong = await SendAsync(method, address, TestApps.ManagementToken[..^1] + "x");
            Assert.True(wrong.StatusCode == HttpStatusCode.Unauthorized, $"{name} with a wrong token: {(int)wrong.StatusCode}");

            // With the token: the surface answers (the registry says it knows no frontend99; the pipeline once read).
            var expected = method == HttpMethod.Delete ? HttpStatusCode.NotFound : HttpStatusCode.OK;
            HttpStatusCode answered = default;
            await Poll.UntilAsync(async () =>
                {
                    using var right = await SendAsync(method, address, TestApps.ManagementToken);
                    answered = right.StatusCode;
                    return answered == expected
                        && (method != HttpMethod.Delete || (await right.Content.ReadAsStringAsync()).Contains("No front end 'frontend99' is registered", StringComparison.Ordinal));
                },
                TimeSpan.FromSeconds(30),
                () => Task.FromResult($"{name} with the token answers {(int)answered}, not {(int)expected}"));
        }
    }

    [Fact]
    public async Task HealthProbesAnswerOnEveryPortWithoutATokenAndGiveDetailsOnlyOnTheManagementPortWithIt()
    {
        foreach (var app in Applications())
        {
            foreach (var path in (string[])["health/live", "health/ready"])
            {
                foreach (var (address, token) in new (Uri, string?)[]
                {
                    (app.BaseAddress, null), (app.BaseAddress, TestApps.ManagementToken), (app.ManagementAddress, null),
                })
                {
                    using var answer = await SendAsync(HttpMethod.Get, new Uri(address, path), token);
                    Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                    var body = await Browser.JsonAsync(answer);
                    Assert.Contains(body.GetProperty("status").GetString(), (string[])["Healthy", "Degraded"]);
                    Assert.False(body.TryGetProperty("checks", out _), $"{app.Process.Name} {address}{path} (token: {token is not null}) names its checks");
                }
            }

            using var detailed = await _operator.GetAsync(new Uri(app.ManagementAddress, "health/ready"));
            Assert.Equal(HttpStatusCode.OK, detailed.StatusCode);
            Assert.NotEmpty((await Browser.JsonAsync(detailed)).GetProperty("checks").EnumerateObject());
        }
    }

    [Fact]
    public async Task ABrowserSignsInWithTheTokenOnceAndThenOpensTheDashboard()
    {
        var signIn = new Uri(system.Worker.ManagementAddress, "management/sign-in");
        var form = await _anonymous.GetStringAsync(signIn);
        Assert.Contains("name=\"token\"", form, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync(new Uri(system.Worker.BaseAddress, "management/sign-in"))).StatusCode);

        using var refused = await _anonymous.PostAsync(signIn, new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = "not the token" }));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.False(refused.Headers.Contains("Set-Cookie"));

        using var accepted = await _anonymous.PostAsync(signIn, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = TestApps.ManagementToken, ["returnTo"] = "/dashboard/",
        }));
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Equal("/dashboard/", accepted.Headers.Location?.OriginalString);
        var cookie = Assert.Single(accepted.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(TestApps.ManagementToken, cookie, StringComparison.Ordinal);

        using var dashboard = new HttpRequestMessage(HttpMethod.Get, new Uri(system.Worker.ManagementAddress, "dashboard/"));
        dashboard.Headers.Add("Cookie", cookie.Split(';')[0]);
        using var opened = await _anonymous.SendAsync(dashboard);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        Assert.Contains("<html", await opened.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        // The cookie is worth nothing on the public port.
        using var onPublic = new HttpRequestMessage(HttpMethod.Get, new Uri(system.Worker.BaseAddress, "dashboard/"));
        onPublic.Headers.Add("Cookie", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.SendAsync(onPublic)).StatusCode);
    }

    [Fact]
    public async Task AnApplicationWithoutAManagementTokenOrWithAShortOneFailsNamingManagementToken()
    {
        await AssertFailsNamingAsync(system.Apps.StartResults("results-no-token", new Dictionary<string, string?> { ["Management__Token"] = "" }),
            "Management:Token", "Management__Token");
        await AssertFailsNamingAsync(system.Apps.StartBalancer("balancer-short-token", new Dictionary<string, string?> { ["Management__Token"] = "too-short" }),
            "Management:Token", "at least 32 characters");
    }

    [Fact]
    public async Task PipelineRequestsAreServedFromTheFeedsSnapshotAndNeverAskTheClusterThemselves()
    {
        // The feed asks the cluster once (again each second until a read succeeds), then not for an hour.
        await using var results = system.Apps.StartResults("results-pipeline-cache", new Dictionary<string, string?>
        {
            ["Results__PipelineRefreshInterval"] = "01:00:00",
        });
        await results.WaitReadyAsync(TimeSpan.FromSeconds(90));
        var pipeline = new Uri(results.ManagementAddress, "api/pipeline");
        await Poll.UntilAsync(async () =>
            {
                using var answer = await _operator.GetAsync(pipeline);
                return answer.StatusCode == HttpStatusCode.OK && (await Browser.JsonAsync(answer)).GetProperty("frontends").GetArrayLength() >= 3;
            },
            TimeSpan.FromSeconds(60), "the results app does not list the front ends' queues");
        var before = await PipelineReadsAsync(results);

        var cached = 0;
        string? first = null;
        for (var i = 0; i < 40; i++)
        {
            using var answer = await _operator.GetAsync(pipeline);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            var body = await answer.Content.ReadAsStringAsync();
            first ??= body;
            // Every answer is the one snapshot the feed read.
            Assert.Equal(first, body);
            cached += answer.Headers.Age is not null ? 1 : 0;
        }

        Assert.True(cached > 0, "no answer came from the output cache (no Age header)");
        Assert.Equal(before, await PipelineReadsAsync(results));
    }

    [Fact]
    public async Task PublicAnswersNameNoInternalAddressAndShowNoExceptionText()
    {
        var frontend = system.Frontends[0].App.BaseAddress;
        var answers = new List<(string What, string Text)>();
        async Task AddAsync(string what, HttpRequestMessage request)
        {
            using (request)
            {
                using var response = await _anonymous.SendAsync(request);
                answers.Add((what, string.Join('\n', response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(',', h.Value)}"))
                    + "\n" + await response.Content.ReadAsStringAsync()));
            }
        }

        HttpRequestMessage Get(Uri address, string path) => new(HttpMethod.Get, new Uri(address, path));
        HttpRequestMessage Post(Uri address, string path, string body, string contentType) =>
            new(HttpMethod.Post, new Uri(address, path)) { Content = new StringContent(body, System.Text.Encoding.UTF8, contentType) };

        foreach (var (name, address) in new[] { ("front end", frontend), ("balancer", system.Balancer.BaseAddress) })
        {
            await AddAsync(name + " page", Get(address, "/"));
            await AddAsync(name + " options", Get(address, "/api/options"));
            await AddAsync(name + " bad form", Post(address, "/", "vote=%ZZ&&=", "application/x-www-form-urlencoded"));
            await AddAsync(name + " bad JSON", Post(address, "/api/votes", "{\"option\":", "application/json"));
            await AddAsync(name + " unknown option", Post(address, "/api/votes", "{\"option\":\"zz\"}", "application/json"));
            await AddAsync(name + " wrong type", Post(address, "/api/votes", "<vote/>", "application/xml"));
            await AddAsync(name + " unknown path", Get(address, "/no/such/page"));
            await AddAsync(name + " readiness", Get(address, "/health/ready"));
        }

        await AddAsync("results page", Get(system.Results.BaseAddress, "/"));
        await AddAsync("results JSON", Get(system.Results.BaseAddress, "/api/results"));
        await AddAsync("results readiness", Get(system.Results.BaseAddress, "/health/ready"));
        answers.Add(("results stream", await FirstPipelineEventAsync()));

        var secrets = new[] { "127.0.0.1", "localhost", "Host=", "Exception", "   at ", "S127.", "LineNumber:", TestApps.SigningKey, TestApps.ManagementToken }
            .Concat(system.Frontends.Select(f => f.Redis.Endpoint))
            .Concat(Applications().Select(a => ":" + a.HttpPort.ToString(CultureInfo.InvariantCulture)))
            .Concat(Applications().Select(a => ":" + a.Launch.Ports.Management.ToString(CultureInfo.InvariantCulture)));
        foreach (var (what, text) in answers)
        {
            foreach (var secret in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{what} shows '{secret}':\n{text}");
            }
        }
    }

    private async Task<string> FirstPipelineEventAsync()
    {
        using var stream = await _anonymous.GetStreamAsync(new Uri(system.Results.BaseAddress, "api/results/stream"));
        using var reader = new StreamReader(stream);
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null && line != "event: pipeline")
        {
        }

        return await reader.ReadLineAsync() ?? "";
    }

    private async Task<long> PipelineReadsAsync(AppProcess results)
    {
        var metrics = await _operator.GetStringAsync(new Uri(results.ManagementAddress, "metrics"));
        var match = PipelineReadsLine().Match(metrics);
        Assert.True(match.Success, "no voting_results_pipeline_reads_total in the results app's metrics");
        return long.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri address, string? token)
    {
        using var request = new HttpRequestMessage(method, address);
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return await _anonymous.SendAsync(request);
    }

    private static async Task AssertFailsNamingAsync(AppProcess app, params string[] settings)
    {
        await using (app)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await app.Process.Exited.WaitAsync(timeout.Token);
            await Poll.UntilAsync(() => Task.FromResult(settings.All(s => app.Process.Tail(200).Contains(s, StringComparison.Ordinal))),
                TimeSpan.FromSeconds(5), () => Task.FromResult("the output does not name " + string.Join(", ", settings) + ":\n" + app.Process.Tail()));
        }
    }

    [GeneratedRegex(@"(?m)^voting_results_pipeline_reads_total(\{[^}]*\})? (?<value>[0-9]+)")]
    private static partial Regex PipelineReadsLine();
}

using System.Net;
using System.Net.Http.Json;
using Voting.Local.Applications;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>A process with a missing or unusable setting stops at start-up with a message naming the setting.</summary>
[Collection(VotingSystemCollection.Name)]
public sealed class StartupValidationTests(VotingSystemFixture system)
{
    private static async Task AssertFailsNamingAsync(AppProcess app, params string[] settings)
    {
        await using (app)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await app.Process.Exited.WaitAsync(timeout.Token);
            // A refused setting ends the process with code 1 and a line saying why, not with the runtime's abort.
            Assert.Equal(1, app.Process.ExitCode);
            // Output is read asynchronously: give the last lines a moment to arrive.
            await Poll.UntilAsync(() => Task.FromResult(settings.All(s => app.Process.Tail(200).Contains(s, StringComparison.Ordinal))),
                TimeSpan.FromSeconds(5), () => Task.FromResult("the output does not name " + string.Join(", ", settings) + ":\n" + app.Process.Tail()));
        }
    }

    [Fact]
    public async Task AFrontEndWithoutAnIdFailsNamingFrontendId()
    {
        await AssertFailsNamingAsync(system.Apps.StartWeb("no-id", "127.0.0.1:1", new Dictionary<string, string?> { ["Frontend__Id"] = "" }), "Frontend:Id", "Frontend__Id");
    }

    [Fact]
    public async Task AFrontEndWithoutRedisOrSigningKeyFailsNamingBoth()
    {
        await AssertFailsNamingAsync(
            system.Apps.StartWeb("no-redis", "", new Dictionary<string, string?> { ["VoterCookie__SigningKey"] = "" }),
            "Frontend:Redis", "VoterCookie:SigningKey");
    }

    [Fact]
    public async Task AFrontEndWithAnUnusableAdvertisedUrlFailsNamingIt()
    {
        await AssertFailsNamingAsync(
            system.Apps.StartWeb("bad-url", "127.0.0.1:1", new Dictionary<string, string?> { ["Frontend__AdvertisedUrl"] = "ftp://frontend01/" }),
            "Frontend:AdvertisedUrl", "Frontend__AdvertisedUrl");
    }

    [Fact]
    public async Task EveryServiceWithAnUnusablePollScheduleFailsNamingTheSetting()
    {
        var poll = new Dictionary<string, string?>
        {
            ["Poll__OpensAt"] = "next tuesday",
            ["Poll__ClosesAt"] = "2026-12-02T09:00:00Z",
            ["Poll__ReleaseAt"] = "2026-12-02T08:00:00Z",
            ["Poll__Embargo"] = "true",
        };
        await Task.WhenAll(
            AssertFailsNamingAsync(system.Apps.StartWeb("bad-poll", "127.0.0.1:1", poll), "Poll:OpensAt", "Poll__OpensAt", "Poll:ReleaseAt"),
            AssertFailsNamingAsync(system.Apps.StartWorker("bad-poll-worker", poll), "Poll:OpensAt", "Poll:ReleaseAt"),
            AssertFailsNamingAsync(system.Apps.StartResults("bad-poll-results", poll), "Poll:OpensAt", "Poll:ReleaseAt"));
    }

    [Fact]
    public async Task AWorkerWithUnusableSealingKeysFailsNamingThem()
    {
        await AssertFailsNamingAsync(
            system.Apps.StartWorker("bad-sealing-worker", new Dictionary<string, string?>
            {
                ["Poll__SigningKeyPath"] = Path.Combine(TestDirectories.Create("no-signing-key"), "missing.pem"),
                ["Poll__PseudonymKey"] = Convert.ToBase64String(new byte[16]),
                ["Poll__SealGrace"] = "00:00:00",
            }),
            "Poll:SigningKeyPath", "Poll:PseudonymKey", "Poll:SealGrace");
    }

    [Fact]
    public async Task AFrontEndWithAMalformedPseudonymKeyFailsNamingIt()
    {
        await AssertFailsNamingAsync(
            system.Apps.StartWeb("bad-receipts", "127.0.0.1:1", new Dictionary<string, string?>
            {
                ["Poll__PseudonymKey"] = "not base64!",
                ["Poll__ResultsUrl"] = "results.example.com",
            }),
            "Poll:PseudonymKey", "Poll__PseudonymKey", "is not base64", "Poll:ResultsUrl");
    }

    [Fact]
    public async Task AFrontEndWithUnusableOverloadLimitsFailsNamingThem()
    {
        await AssertFailsNamingAsync(
            system.Apps.StartWeb("bad-limits", "127.0.0.1:1", new Dictionary<string, string?>
            {
                ["Overload__ConcurrencyLimit"] = "0",
                ["Overload__QueueLimit"] = "-1",
                ["Overload__RedisMemoryNotReadyFraction"] = "1.5",
            }),
            "Overload:ConcurrencyLimit", "Overload__ConcurrencyLimit", "Overload:QueueLimit", "Overload:RedisMemoryNotReadyFraction");
    }

    [Fact]
    public async Task AFrontEndWithUnusableClientLimitsOrTrustedProxiesFailsNamingThem()
    {
        await AssertFailsNamingAsync(
            system.Apps.StartWeb("bad-client-limits", "127.0.0.1:1", new Dictionary<string, string?>
            {
                ["Limits__Identities__Permits"] = "0",
                ["Limits__AddressVotes__Refill"] = "-3",
                ["Limits__VoterVotes__Period"] = "00:00:00",
                ["Edge__TrustedProxies__0"] = "10.0.0.1/8",
                ["Edge__ForwardLimit"] = "0",
            }),
            "Limits:Identities:Permits", "Limits__Identities__Permits", "Limits:AddressVotes:Refill", "Limits:VoterVotes:Period",
            "Edge:TrustedProxies", "Edge:ForwardLimit");
    }

    [Fact]
    public async Task AResultsAppWithUnusableLimitsOrTrustedProxiesFailsNamingThem()
    {
        await AssertFailsNamingAsync(
            system.Apps.StartResults("bad-results-limits", new Dictionary<string, string?>
            {
                ["Results__Limits__Receipts__Permits"] = "0",
                ["Results__Limits__Downloads__Refill"] = "-1",
                ["Results__Limits__General__Period"] = "00:00:00",
                ["Results__Limits__ConcurrentDownloads"] = "0",
                ["Edge__TrustedProxies__0"] = "everyone",
            }),
            "Results:Limits:Receipts:Permits", "Results__Limits__Receipts__Permits", "Results:Limits:Downloads:Refill",
            "Results:Limits:General:Period", "Results:Limits:ConcurrentDownloads", "Edge:TrustedProxies");
    }

    [Fact]
    public async Task ABalancerWithUnusableTrustedProxiesFailsNamingThem()
    {
        await AssertFailsNamingAsync(
            system.Apps.StartBalancer("bad-edge", new Dictionary<string, string?> { ["Edge__TrustedProxies__0"] = "loopback" }),
            "Edge:TrustedProxies", "Edge__TrustedProxies");
    }

    [Fact]
    public async Task ASettingKeptInASecretFileIsReadAsDockerSwarmMountsIt()
    {
        // As in deploy/swarm: the voter-cookie key is a Docker secret, a file named after the setting.
        var secrets = Directory.CreateTempSubdirectory("voting-secrets-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(secrets.FullName, "VoterCookie__SigningKey"), TestApps.SigningKey + "\n");
            // A Redis of its own: a front end registered on another's stream would get a second drainer on it.
            await using var redis = await TestServers.StartRedisAsync();
            await using var web = system.Apps.StartWeb("secret-key", redis.Endpoint, new Dictionary<string, string?>
            {
                ["VoterCookie__SigningKey"] = "",
                ["SecretsDirectory"] = secrets.FullName,
            });

            await web.WaitReadyAsync(TimeSpan.FromSeconds(60));

            // Signed with the same key: a cookie from another front end is accepted.
            using var browser = new Browser();
            await browser.OpenAsync(system.Frontends[0].App.BaseAddress);
            var cookie = browser.VoterCookie(system.Frontends[0].App.BaseAddress)!;
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(web.BaseAddress, "api/votes"))
            {
                Content = JsonContent.Create(new { option = "a" }),
            };
            request.Headers.Add("Cookie", "voter_id=" + cookie);
            Assert.Equal(HttpStatusCode.Accepted, (await browser.SendAsync(request)).StatusCode);
        }
        finally
        {
            secrets.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ABalancerGivenAnUnusableFrontEndAddressFailsNamingTheSetting()
    {
        await AssertFailsNamingAsync(
            system.Apps.StartBalancer("bad-balancer", new Dictionary<string, string?> { ["Balancer__Frontends__frontend01"] = "frontend01:8080" }),
            "Balancer:Frontends", "Balancer__Frontends__frontend01=");
    }

    [Fact]
    public async Task AFrontEndWithAPasswordInItsRedisEndpointOrAUserWithoutAPasswordFailsNamingThemAndNotThePassword()
    {
        const string Password = "a-password-in-the-endpoint";
        var app = system.Apps.StartWeb("redis-password", "127.0.0.1:1,password=" + Password,
            new Dictionary<string, string?> { ["Frontend__RedisPassword"] = "" });
        await AssertFailsNamingAsync(app, "'Frontend:Redis'", "Frontend:RedisPassword", "Frontend__RedisPassword");
        Assert.DoesNotContain(Password, app.Process.Tail(500), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWorkerWithADrainerUserWithoutAPasswordFailsNamingIt()
    {
        await AssertFailsNamingAsync(system.Apps.StartWorker("no-drainer-password", new Dictionary<string, string?>
        {
            ["Drainers__RedisPassword"] = "",
        }), "Drainers:RedisPassword", "Drainers__RedisPassword");
    }

    [Fact]
    public async Task AFrontEndWithAShortSigningKeyFailsNamingIt()
    {
        await AssertFailsNamingAsync(
            system.Apps.StartWeb("short-key", "127.0.0.1:1", new Dictionary<string, string?> { ["VoterCookie__SigningKey"] = Convert.ToBase64String(new byte[8]) }),
            "VoterCookie:SigningKey");
    }

    [Fact]
    public async Task AWorkerWithoutAConnectionStringFailsNamingPostgresConnectionString()
    {
        await AssertFailsNamingAsync(system.Apps.StartWorker("no-postgres", new Dictionary<string, string?>
        {
            ["Postgres__ConnectionString"] = "",
            ["Clustering__Provider"] = "Localhost",
        }), "Postgres:ConnectionString");
    }

    [Fact]
    public async Task AnUnknownClusteringProviderFailsNamingTheSetting()
    {
        await AssertFailsNamingAsync(system.Apps.StartWorker("bad-provider", new Dictionary<string, string?>
        {
            ["Clustering__Provider"] = "Zookeeper",
        }), "Clustering");
    }

    [Fact]
    public async Task AWebSiloOnConsulWithoutAnAddressFailsNamingTheSetting()
    {
        await AssertFailsNamingAsync(system.Apps.StartWeb("no-consul", "127.0.0.1:1", new Dictionary<string, string?>
        {
            ["Clustering__Provider"] = "Consul",
        }), "Clustering:Consul:Address");
    }
}

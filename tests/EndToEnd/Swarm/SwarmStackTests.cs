using System.Net;
using System.Text.Json;
using Voting.Testing;

namespace Voting.EndToEnd.Tests.Swarm;

/// <summary>
/// <c>deploy/swarm</c>: the stack file agrees with the images and with itself, and the processes it describes, run
/// with its settings (<see cref="SwarmStackFixture"/>), form one Orleans cluster over Consul and count every vote.
/// No Docker engine runs here: the images themselves are not built by these tests.
/// </summary>
[Collection(SwarmStackCollection.Name)]
public sealed class SwarmStackTests(SwarmStackFixture swarm) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose() => _http.Dispose();

    private IEnumerable<StackService> Ours(string target) => swarm.Stack.Services.Values.Where(s => s.Target == target);

    [Fact]
    public void EveryImageTheStackRunsIsATargetOfTheDockerfileAndEverySecretItMountsIsDeclared()
    {
        string[] targets = ["web", "silo", "results", "balancer"];
        Assert.Equal(targets.Order(), swarm.Stack.Services.Values.Select(s => s.Target).OfType<string>().Distinct().Order());
        Assert.All(targets, target => Assert.Contains(target, swarm.Images.Keys));
        Assert.All(swarm.Stack.Services.Values.SelectMany(s => s.Secrets.Values), secret => Assert.Contains(secret, swarm.Stack.DeclaredSecrets));
        Assert.Contains(swarm.Stack.Services.Values, s => s.Image.StartsWith("hashicorp/consul:", StringComparison.Ordinal) && s.Name == "consul");
        Assert.Contains(swarm.Stack.Services.Values, s => s.Image.StartsWith("postgres:", StringComparison.Ordinal) && s.Name == "postgres");
    }

    [Fact]
    public void EachFrontEndHasARedisOfItsOwnOnItsNodeAndAnnouncesItsServiceAddress()
    {
        var frontends = Ours("web").ToArray();
        Assert.True(frontends.Length >= 2, "the stack should run at least two front ends");
        var port = new Uri(swarm.Images["web"]["Urls"].Replace("+", "localhost", StringComparison.Ordinal)).Port;
        foreach (var frontend in frontends)
        {
            Assert.Equal(frontend.Name, frontend.Environment["Frontend__Id"]);
            Assert.Equal($"http://{frontend.Name}:{port}/", frontend.Environment["Frontend__AdvertisedUrl"]);
            var redis = swarm.Stack.Services[frontend.Environment["Frontend__Redis"].Split(':')[0]];
            Assert.StartsWith("redis:", redis.Image, StringComparison.Ordinal);
            Assert.Equal(frontend.Constraints, redis.Constraints);
            Assert.Contains(redis.Constraints, c => c.StartsWith("node.labels.", StringComparison.Ordinal));
            Assert.Equal(1, frontend.Replicas);
        }

        Assert.Equal(frontends.Length, frontends.Select(f => f.Environment["Frontend__Redis"]).Distinct().Count());

        // The balancer's configured front ends, if any, are front ends of the stack at the addresses they announce.
        foreach (var (key, address) in Ours("balancer").Single().Environment.Where(e => e.Key.StartsWith("Balancer__Frontends__", StringComparison.Ordinal)))
        {
            var id = key["Balancer__Frontends__".Length..];
            Assert.Equal(swarm.Stack.Services[id].Environment["Frontend__AdvertisedUrl"], address);
        }
    }

    [Fact]
    public void EveryProcessOfTheClusterAdvertisesItsAddressOnTheStacksNetworkAndFindsConsul()
    {
        Assert.All(swarm.Stack.Services.Values.Where(s => s.Target is not null), service =>
        {
            Assert.Equal("Consul", service.Environment["Clustering__Provider"]);
            Assert.Equal(swarm.Stack.Subnet, service.Environment["Clustering__AdvertisedAddress"]);
            Assert.Equal("http://consul:8500", service.Environment["Clustering__Consul__Address"]);
        });
    }

    [Fact]
    public async Task TheStacksSilosFormOneClusterWhoseMembershipIsInConsul()
    {
        var silos = Ours("web").Concat(Ours("silo")).Sum(s => s.Replicas);
        Assert.Equal(silos, swarm.Consul.Store.Snapshot().Keys.Count(k => k.StartsWith("orleans/voting/members/", StringComparison.Ordinal)));

        // The registry, a grain on a worker silo, heard from every front end, each over its web silo.
        var worker = swarm.Tasks[Ours("silo").First().Name][0];
        var expected = Ours("web").Select(f => f.Name).Order().ToArray();
        string[] registered = [];
        await Poll.UntilAsync(
            async () =>
            {
                var listed = JsonDocument.Parse(await _http.GetStringAsync(new Uri(worker.BaseAddress, "api/frontends"))).RootElement;
                registered = listed.EnumerateArray().Select(f => f.GetProperty("frontendId").GetString()!).Order().ToArray();
                return registered.SequenceEqual(expected);
            },
            Patience,
            () => Task.FromResult($"registered: {string.Join(", ", registered)}"));
    }

    [Fact]
    public async Task VotesThroughEveryBalancerReplicaAreCountedByTheLatestVotePerVoter()
    {
        var balancers = swarm.Tasks[Ours("balancer").Single().Name].Select(b => b.BaseAddress).ToArray();
        Assert.True(balancers.Length >= 2, "the stack runs the balancer replicated");
        var latest = new Dictionary<Guid, string>();
        for (var voter = 0; voter < 30; voter++)
        {
            using var browser = new Browser();
            var first = balancers[voter % balancers.Length];
            Assert.Equal(HttpStatusCode.OK, (await browser.OpenAsync(first)).StatusCode);
            var option = voter % 2 == 0 ? "a" : "b";
            var response = await browser.VoteWithJsonAsync(first, option);
            if (voter % 3 == 0)
            {
                // Changes their mind, through the other balancer.
                option = option == "a" ? "b" : "a";
                response = await browser.VoteWithJsonAsync(balancers[(voter + 1) % balancers.Length], option);
            }

            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            latest[(await Browser.JsonAsync(response)).GetProperty("voterId").GetGuid()] = option;
        }

        await Poll.UntilAsync(
            async () =>
            {
                var rows = await swarm.Database.ReadVotesAsync(latest.Keys);
                return rows.Count == latest.Count && latest.All(v => rows[v.Key].Option == v.Value);
            },
            Patience,
            "the votes were not all counted with each voter's latest choice");

        var results = swarm.Tasks[Ours("results").Single().Name][0];
        var total = 0L;
        await Poll.UntilAsync(
            async () => (total = JsonDocument.Parse(await _http.GetStringAsync(new Uri(results.BaseAddress, "api/results"))).RootElement.GetProperty("total").GetInt64()) == latest.Count,
            Patience,
            () => Task.FromResult($"the results app counts {total}, not {latest.Count}"));
    }
}

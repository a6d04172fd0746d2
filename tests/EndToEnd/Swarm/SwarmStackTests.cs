using System.Net;
using System.Text.Json;
using Voting.Testing;

namespace Voting.EndToEnd.Tests.Swarm;

/// <summary>
/// <c>deploy/swarm</c>: the stack file agrees with the images and with itself, and the processes it describes, run
/// with its settings (<see cref="SwarmStackFixture"/>) and its default membership provider, form one Orleans cluster
/// over Consul and count every vote. The stack on a real Swarm, with AdoNet membership, is <c>SwarmTests</c>'.
/// </summary>
[Collection(SwarmStackCollection.Name)]
public sealed class SwarmStackTests(SwarmStackFixture swarm) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly HttpClient _http = TestApps.ManagementClient();

    public void Dispose() => _http.Dispose();

    private IEnumerable<StackService> Ours(string target) => swarm.Stack.Services.Values.Where(s => s.Target == target);

    [Fact]
    public void EveryImageTheStackRunsIsATargetOfTheDockerfileAndEverySecretItMountsIsDeclared()
    {
        string[] targets = ["web", "silo", "results", "balancer", "redis", "postgres"];
        Assert.Equal(targets.Order(), swarm.Stack.Services.Values.Select(s => s.Target).OfType<string>().Distinct().Order());
        Assert.All(targets, target => Assert.Contains(target, swarm.Images.Keys));
        Assert.All(swarm.Stack.Services.Values.SelectMany(s => s.Secrets.Values), secret => Assert.Contains(secret, swarm.Stack.DeclaredSecrets));
        Assert.Contains(swarm.Stack.Services.Values, s => s.Image.StartsWith("hashicorp/consul:", StringComparison.Ordinal) && s.Name == "consul");
        // Where a registry is at hand, the public Redis image does as well: the stack names images by variables. The
        // PostgreSQL image is ours wherever it comes from (the public one has no pg_auto_failover).
        var images = SwarmStack.Load(new Dictionary<string, string> { ["VOTING_REDIS_IMAGE"] = "redis:7.2", ["VOTING_POSTGRES_IMAGE"] = "registry.example/voting/postgres:1.0" });
        Assert.Equal("redis:7.2", images.Services["redis"].Image);
        Assert.All(PostgresMembers, member => Assert.Equal("registry.example/voting/postgres:1.0", images.Services[member].Image));
    }

    private static readonly string[] PostgresMembers = ["pgmonitor", "postgres01", "postgres02"];

    [Fact]
    public void EveryApplicationHasAManagementPortWithATokenFromASecretAndNoServicePublishesIt()
    {
        foreach (var service in swarm.Stack.Services.Values.Where(s => s.IsApplication))
        {
            Assert.Equal("voting_management_token", service.Secrets.GetValueOrDefault("Management__Token"));
            // http://+:9000: every address of the container, on the stack's networks only.
            var url = new Uri(service.Environment["Management__Urls"].Replace("+", "localhost", StringComparison.Ordinal));
            Assert.DoesNotContain(service.Ports, p => p.Target == url.Port);
            Assert.DoesNotContain("Management__Token", service.Environment.Keys);
        }

        // The dashboard's port of old is published no more: the operators reach the management ports through tunnels.
        Assert.DoesNotContain(swarm.Stack.Services["worker"].Ports, p => p.Target == 8070);
    }

    [Fact]
    public void EveryMemberOfTheClusterPresentsTheClusterCertificateFromASecret()
    {
        // The processes of this fixture formed one cluster with these settings, so they are enough for each other;
        // here: each names both files of mounted secrets, and the key is nowhere in the environment.
        foreach (var service in swarm.Stack.Services.Values.Where(s => s.IsApplication))
        {
            foreach (var (setting, secret) in new[] { ("Clustering__Tls__CertificatePath", "voting_cluster_tls_certificate"), ("Clustering__Tls__KeyPath", "voting_cluster_tls_key") })
            {
                Assert.Equal("/run/secrets/" + secret, service.Environment.GetValueOrDefault(setting));
                Assert.Equal(secret, service.Secrets.GetValueOrDefault(secret));
            }
        }
    }

    [Fact]
    public void ConsulRunsWithAclsAndTheApplicationsTokenMayWriteTheMembershipKeysOnly()
    {
        // This fixture's processes formed their cluster over an in-test Consul with those ACLs (default deny, the
        // token limited to orleans/), reading the token from the file the stack names.
        var script = File.ReadAllText(SwarmStack.StackFile);
        Assert.Contains("default_policy = \"deny\"", script, StringComparison.Ordinal);
        foreach (var service in swarm.Stack.Services.Values.Where(s => s.IsApplication))
        {
            Assert.Equal("/run/secrets/voting_consul_token", service.Environment.GetValueOrDefault("Clustering__Consul__TokenFile"));
            Assert.Equal("voting_consul_token", service.Secrets.GetValueOrDefault("voting_consul_token"));
            Assert.DoesNotContain("Clustering__Consul__Token", service.Environment.Keys);
            Assert.Contains($"key_prefix \"{service.Environment["Clustering__Consul__KvRoot"]}\" {{ policy = \"write\" }}", script, StringComparison.Ordinal);
        }

        Assert.Equal(["voting_consul_management_token", "voting_consul_token"], swarm.Stack.Services["consul"].Secrets.Keys.Order());
    }

    [Fact]
    public void ThePostgresFormationsMonitorPrimaryAndStandbyArePinnedToThreeDifferentNodes()
    {
        var members = PostgresMembers.Select(m => swarm.Stack.Services[m]).ToArray();
        Assert.All(members, m => Assert.Equal(("postgres", "replicated", 1), (m.Target, m.Mode, m.Replicas)));
        // Each by a label of its own: labelled on three nodes, no two members share a machine (or a volume).
        var labels = members.Select(m => Assert.Single(m.Constraints, c => c.StartsWith("node.labels.", StringComparison.Ordinal))).ToArray();
        Assert.Equal(3, labels.Distinct().Count());
        Assert.Equal(["monitor", "node", "node"], members.Select(m => m.Environment["VOTING_PG_ROLE"]));
        Assert.All(members, m => Assert.Equal(m.Name, m.Environment["VOTING_PG_NAME"]));
        // The data nodes are on two networks: the others reach each by its name on the store network, where pg_hba
        // admits pg_auto_failover's users (a bare name may resolve to its operators-network address).
        Assert.All(members.Skip(1), m => Assert.Equal($"{m.Name}.voting_store-encrypted", m.Environment["VOTING_PG_HOSTNAME"]));
        Assert.All(members.Skip(1), m => Assert.Equal("pgmonitor", m.Environment["VOTING_PG_MONITOR"]));
        Assert.All(members, m => Assert.Equal(swarm.Stack.SubnetOf(m, "store"), m.Environment["VOTING_PG_NETWORK"]));
        Assert.All(members.Skip(1), m => Assert.Equal(swarm.Stack.SubnetOf(m, "operators"), m.Environment["VOTING_PG_OPERATORS"]));
        Assert.DoesNotContain(swarm.Stack.Services.Keys, name => name == "postgres");
    }

    [Fact]
    public void TheFormationsOwnUsersPasswordsAreMountedOnItsMembersAndNowhereElse()
    {
        // The keepers' user on the monitor: every member; the replication user (a superuser): the data nodes. Both
        // read from VOTING_PG_ROLE_PASSWORDS (postgres/entrypoint.sh), which refuses to start without them.
        string[] formation = ["voting_postgres_autoctl_password", "voting_postgres_replication_password"];
        var members = PostgresMembers.Select(m => swarm.Stack.Services[m]).ToArray();
        Assert.All(members, m => Assert.Equal("/run/secrets", m.Environment["VOTING_PG_ROLE_PASSWORDS"]));
        Assert.Equal(["voting_postgres_autoctl_password"], members[0].Secrets.Values);
        Assert.All(members.Skip(1), m => Assert.All(formation, secret => Assert.Contains(secret, m.Secrets.Values)));
        Assert.All(swarm.Stack.Services.Values.Where(s => s.Target != "postgres"),
            service => Assert.All(formation, secret => Assert.DoesNotContain(secret, service.Secrets.Values)));
    }

    [Fact]
    public void AFrontEndAndItsRedisRunOnEveryFrontEndNodeAndTheWebFindsItsNodesOwnRedis()
    {
        var web = Ours("web").Single();
        var redis = Ours("redis").Single();
        Assert.Equal(("global", "global"), (web.Mode, redis.Mode));
        Assert.Equal(web.Constraints, redis.Constraints);
        Assert.Contains(web.Constraints, c => c.StartsWith("node.labels.", StringComparison.Ordinal));
        var port = new Uri(swarm.Images["web"]["Urls"].Replace("+", "localhost", StringComparison.Ordinal)).Port;

        // On each front-end node: the front end named after the node, writing to the Redis task of the same node.
        var frontendNodes = swarm.TasksOf(web).Select(t => t.Node.Hostname).ToArray();
        Assert.True(frontendNodes.Length >= 2, "the simulated cluster has two front-end nodes");
        Assert.Equal(frontendNodes, swarm.TasksOf(redis).Select(t => t.Node.Hostname));
        foreach (var task in swarm.TasksOf(web))
        {
            var sameNode = swarm.TasksOf(redis).Single(r => r.Node == task.Node);
            Assert.Equal(task.Node.Hostname, task.Fill(web.Environment["Frontend__Id"]));
            Assert.Equal($"{sameNode.Hostname}:6379", task.Fill(web.Environment["Frontend__Redis"]));
            Assert.Equal($"http://{task.Hostname}:{port}/", task.Fill(web.Environment["Frontend__AdvertisedUrl"]));
        }

        Assert.Equal(frontendNodes.Length, swarm.TasksOf(redis).Select(t => t.Hostname).Distinct().Count());
    }

    [Fact]
    public void ServicesAreReachedAtTheirTasksAddressesAndPublishOnTheirNodes()
    {
        // No virtual IPs and no routing mesh (DOCKER.md: neither works without IPVS; both are also fine in production).
        Assert.All(swarm.Stack.Services.Values, service =>
        {
            Assert.Equal("dnsrr", service.EndpointMode);
            Assert.All(service.Ports, p => Assert.Equal("host", p.Mode));
        });
        Assert.Contains(Ours("balancer").Single().Ports, p => p.Target == 8080 && p.Published == 80);
        Assert.Contains(Ours("balancer").Single().Ports, p => p.Target == 8443 && p.Published == 443);
        // The results app: HTTPS, and the plain port that redirects there.
        Assert.Contains(Ours("results").Single().Ports, p => p.Target == 8443 && p.Published == 8443);
        Assert.Contains(Ours("results").Single().Ports, p => p.Target == 8090 && p.Published == 8090);

        // The overlays are encrypted unless VOTING_OVERLAY=plain picks their unencrypted twins, with the same subnets.
        var plain = SwarmStack.Load(new Dictionary<string, string> { ["VOTING_OVERLAY"] = "plain" });
        Assert.All(swarm.Stack.Services.Values, s => Assert.All(s.Networks, n => Assert.EndsWith("-encrypted", n, StringComparison.Ordinal)));
        Assert.All(plain.Services.Values, s => Assert.Equal(
            swarm.Stack.Services[s.Name].Networks.Select(n => n.Replace("-encrypted", "-plain", StringComparison.Ordinal)), s.Networks));
        Assert.All(plain.Services.Values.SelectMany(s => s.Networks), n =>
            Assert.Equal(swarm.Stack.Subnets[n.Replace("-plain", "-encrypted", StringComparison.Ordinal)], plain.Subnets[n]));
    }

    [Fact]
    public void EachServiceJoinsOnlyTheNetworksItNeedsAndOnlyTheOperatorsNetworkIsAttachable()
    {
        // edge: balancer ↔ web; cluster: Orleans and Consul; data: Redis; store: PostgreSQL; operators: the tunnels.
        var expected = new Dictionary<string, string[]>
        {
            ["consul"] = ["cluster"],
            ["pgmonitor"] = ["store"],
            ["postgres01"] = ["store", "operators"],
            ["postgres02"] = ["store", "operators"],
            ["redis"] = ["data"],
            ["web"] = ["edge", "cluster", "data", "store"],
            ["worker"] = ["cluster", "data", "store", "operators"],
            ["balancer"] = ["edge", "cluster", "store", "operators"],
            ["results"] = ["cluster", "store", "operators"],
        };
        Assert.Equal(expected.Keys.Order(), swarm.Stack.Services.Keys.Order());
        foreach (var (name, kinds) in expected)
        {
            Assert.Equal(kinds.Select(k => k + "-encrypted"), swarm.Stack.Services[name].Networks);
        }

        Assert.Equal(["operators-encrypted", "operators-plain"], swarm.Stack.Attachable.Order());
        // No one network holds the balancer and a Redis: the edge cannot reach the votes' queues.
        Assert.Empty(swarm.Stack.Services["balancer"].Networks.Intersect(swarm.Stack.Services["redis"].Networks));
        Assert.Equal(swarm.Stack.Subnets.Count, swarm.Stack.Subnets.Values.Distinct().Count() * 2);
    }

    [Fact]
    public void EveryProcessOfTheClusterAdvertisesItsAddressOnTheStacksNetworkAndFindsConsul()
    {
        Assert.All(swarm.Stack.Services.Values.Where(s => s.IsApplication), service =>
        {
            Assert.Equal("Consul", service.Environment["Clustering__Provider"]);
            Assert.Equal(swarm.Stack.SubnetOf(service, "cluster"), service.Environment["Clustering__AdvertisedAddress"]);
            Assert.Equal("http://consul:8500", service.Environment["Clustering__Consul__Address"]);
        });
        var adoNet = SwarmStack.Load(new Dictionary<string, string> { ["VOTING_CLUSTERING"] = "AdoNet" });
        Assert.All(adoNet.Services.Values.Where(s => s.IsApplication), s => Assert.Equal("AdoNet", s.Environment["Clustering__Provider"]));
    }

    [Fact]
    public async Task TheStacksSilosFormOneClusterWhoseMembershipIsInConsul()
    {
        var silos = Ours("web").Concat(Ours("silo")).Sum(s => swarm.TasksOf(s).Count);
        Assert.Equal(silos, swarm.Consul.Store.Snapshot().Keys.Count(k => k.StartsWith("orleans/voting/members/", StringComparison.Ordinal)));

        // The registry, a grain on a worker silo, heard from every front end, each over its web silo.
        var worker = swarm.Tasks[Ours("silo").First().Name][0];
        var expected = swarm.TasksOf(Ours("web").Single()).Select(t => t.Node.Hostname).Order().ToArray();
        string[] registered = [];
        await Poll.UntilAsync(
            async () =>
            {
                var listed = JsonDocument.Parse(await _http.GetStringAsync(new Uri(worker.ManagementAddress, "api/frontends"))).RootElement;
                registered = listed.EnumerateArray().Select(f => f.GetProperty("frontendId").GetString()!).Order().ToArray();
                return registered.SequenceEqual(expected);
            },
            Patience,
            () => Task.FromResult($"registered: {string.Join(", ", registered)}"));
    }

    [Fact]
    public async Task VotesThroughEveryBalancerAreCountedByTheLatestVotePerVoter()
    {
        // Over HTTPS, with the certificate of the stack's secrets: the front ends require it.
        var balancers = swarm.Tasks[Ours("balancer").Single().Name].Select(b => swarm.HttpsAddresses[b]).ToArray();
        Assert.True(balancers.Length >= 2, "the simulated cluster has two balancer nodes");
        var latest = new Dictionary<Guid, string>();
        for (var voter = 0; voter < 30; voter++)
        {
            using var browser = new Browser(trust: swarm.Certificate.TrustPolicy());
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

        // The results app is a public edge too: HTTPS with the same certificate.
        var results = swarm.HttpsAddresses[swarm.Tasks[Ours("results").Single().Name][0]];
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false };
        handler.SslOptions.CertificateChainPolicy = swarm.Certificate.TrustPolicy();
        using var https = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        var total = 0L;
        await Poll.UntilAsync(
            async () => (total = JsonDocument.Parse(await https.GetStringAsync(new Uri(results, "api/results"))).RootElement.GetProperty("total").GetInt64()) == latest.Count,
            Patience,
            () => Task.FromResult($"the results app counts {total}, not {latest.Count}"));
    }
}

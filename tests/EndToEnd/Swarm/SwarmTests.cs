using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Voting.Local.Tls;
using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests.Swarm;

/// <summary>
/// <c>./voting swarm up</c>: the tutorial's nodes as Docker-in-Docker containers, one real Swarm, the stack deployed
/// with the images built here. Shared by the tests of <see cref="SwarmTests"/>; <c>./voting swarm down</c> at the end.
/// </summary>
public sealed partial class SwarmFixture : IAsyncLifetime
{
    public VotingCommand Voting { get; } = VotingCommand.ForNewSystem(frontends: 2);

    public CommandResult Up { get; private set; } = null!;

    public Uri Vote { get; private set; } = null!;

    public Uri Results { get; private set; } = null!;

    public Uri Dashboard { get; private set; } = null!;

    /// <summary>The balancer's self-signed certificate, which <c>swarm up</c> made and gave the stack as secrets.</summary>
    public EdgeCertificate Certificate => new(
        Path.Combine(Voting.Environment["VOTING_DATA"], "swarm", "tls", "edge.crt"), Path.Combine(Voting.Environment["VOTING_DATA"], "swarm", "tls", "edge.key"));

    /// <summary>A client of the balancer's HTTPS that trusts <see cref="Certificate"/> alone.</summary>
    public HttpClient Browser(CookieContainer? cookies = null)
    {
        var handler = new SocketsHttpHandler { CookieContainer = cookies ?? new CookieContainer(), UseCookies = cookies is not null, AllowAutoRedirect = false };
        handler.SslOptions.CertificateChainPolicy = Certificate.TrustPolicy();
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task InitializeAsync()
    {
        var existing = await Voting.RunAsync(["swarm", "status"], TimeSpan.FromMinutes(2));
        if (existing.Output.Contains("Nodes:", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("A Swarm of ./voting swarm runs on this machine already; these tests make their own: ./voting swarm down first.");
        }

        Up = await Voting.RunAsync(["swarm", "up"], TimeSpan.FromMinutes(25));
        if (Up.ExitCode != 0)
        {
            throw new InvalidOperationException($"./voting swarm up failed: {Up}");
        }

        Vote = new Uri(Line("Vote:"));
        Results = new Uri(Line("Results:"));
        Dashboard = new Uri(Line("Dashboard:"));
    }

    public async Task DisposeAsync()
    {
        var down = await Voting.RunAsync(["swarm", "down"], TimeSpan.FromMinutes(5));
        if (down.ExitCode != 0)
        {
            throw new InvalidOperationException($"./voting swarm down failed: {down}");
        }
    }

    private string Line(string label) =>
        Address().Matches(Up.Output).FirstOrDefault(m => m.Groups["label"].Value == label)?.Groups["url"].Value
        ?? throw new InvalidOperationException($"./voting swarm up printed no '{label}' line:\n{Up}");

    [GeneratedRegex(@"(?m)^  (?<label>\w+:) +(?<url>https?://\S+)")]
    private static partial Regex Address();
}

[CollectionDefinition(Name)]
public sealed class SwarmCollection : ICollectionFixture<SwarmFixture>
{
    public const string Name = "swarm";
}

/// <summary>
/// The tutorial's deployment on a real multi-node Swarm, driven through the command line a user runs: it answers at
/// the printed addresses, grows by a front-end node with one command, and every failure of the tutorial's
/// troubleshooting list — each caused while the load tool votes through the balancer — ends with every acknowledged
/// vote counted exactly once (the load tool's audit) and votes taken while it lasted.
/// </summary>
[Collection(SwarmCollection.Name)]
[Trait("Category", "Swarm")]
[TestCaseOrderer(ClosingTestsLast.Name, ClosingTestsLast.Assembly)]
public sealed class SwarmTests(SwarmFixture swarm, ITestOutputHelper output)
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task TheStackAnswersAtThePrintedAddressesAndStatusShowsEveryNodeReady()
    {
        Assert.Contains("AdoNet clustering", swarm.Up.Output, StringComparison.Ordinal);
        var status = await swarm.Voting.RunAsync(["swarm", "status"], TimeSpan.FromMinutes(2));
        output.WriteLine(status.ToString());
        Assert.Equal(0, status.ExitCode);

        // The dashboard is behind the workers' management port, which the stack never publishes: the operators' tunnel
        // on node interlock reaches it, where up printed it and status shows it.
        var dashboard = new Uri(Regex.Match(status.Output, @"(?m)^  Dashboard: +(?<url>http://\S+)").Groups["url"].Value);
        Assert.Equal(swarm.Dashboard, dashboard);
        using var https = swarm.Browser();
        foreach (var url in new[] { swarm.Vote, swarm.Results, dashboard })
        {
            using var response = await (url.Scheme == "https" ? https : _http).GetAsync(new Uri(url, "/health/ready"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The balancer serves HTTPS with the certificate of the stack's secrets; its port 80 redirects there, keeping a POST a POST.
        Assert.Equal("https", swarm.Vote.Scheme);
        using var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
        using (var redirected = await plain.PostAsJsonAsync(new UriBuilder(swarm.Vote) { Scheme = "http", Port = 80 }.Uri + "api/votes", new { option = "a" }))
        {
            Assert.Equal(HttpStatusCode.PermanentRedirect, redirected.StatusCode);
            Assert.Equal(new Uri(swarm.Vote, "/api/votes"), redirected.Headers.Location);
        }

        // Without the management token the dashboard refuses.
        using (var refused = await _http.GetAsync(dashboard))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        foreach (var node in new[] { "manager", "interlock", "frontend01", "frontend02", "worker01", "store" })
        {
            Assert.Matches($@"(?m)^  {node} +Ready +Active", status.Output);
        }

        Assert.Equal(3, Regex.Count(status.Output, "ready: 200"));
        // PostgreSQL: postgres01 on store, postgres02 on worker01, one the primary and the other its standby in sync
        // (postgres01 is the primary when the formation is created; after a failover test, either may be).
        Assert.Matches(@"(?m)^  postgres01 +store +(primary|secondary) ", status.Output);
        Assert.Matches(@"(?m)^  postgres02 +worker01 +(primary|secondary) ", status.Output);
        Assert.Single(Regex.Matches(status.Output, @"(?m)^  postgres0\d .* primary +primary +PRIMARY$"));
        Assert.Single(Regex.Matches(status.Output, @"(?m)^  postgres0\d .* secondary +secondary +standby$"));
        Assert.Contains("routes to: frontend01, frontend02", status.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFrontEndNodeAddedWithOneCommandGetsItsPairAndTraffic()
    {
        var added = await swarm.Voting.RunAsync(["swarm", "add", "frontend"], TimeSpan.FromMinutes(10));
        output.WriteLine(added.ToString());
        Assert.True(added.ExitCode == 0, added.ToString());
        var node = Regex.Match(added.Output, @"(?m)^(?<node>frontend\d\d) joined the Swarm").Groups["node"].Value;
        Assert.NotEqual("", node);

        // Its web front end and Redis run there without a change to the stack: votes through the balancer reach it.
        // Each vote is a new voter; the balancer picks the less busy of two front ends at random, so within a minute of
        // votes one reaches every front end it routes to.
        var reached = false;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!reached && watch.Elapsed < TimeSpan.FromMinutes(1))
        {
            using var voter = swarm.Browser(new CookieContainer());
            voter.BaseAddress = swarm.Vote;
            (await voter.GetAsync("/")).EnsureSuccessStatusCode();
            using var response = await voter.PostAsJsonAsync("/api/votes", new { option = "b" });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            reached = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("frontendId").GetString() == node;
        }

        Assert.True(reached, $"no vote through the balancer reached {node}");
    }

    [Fact]
    public async Task TheBalancerIsOnNoNetworkOfAnyRedisAndHasNoRouteToOne()
    {
        // The web front end on frontend01 shares the data network with its Redis: the name resolves, its routing
        // table has the Redis's subnet on a link of its own, and it connects.
        var web = await ContainerAsync("frontend01", "web");
        var resolved = await DockerAsync("exec", "frontend01", "docker", "exec", web, "getent", "hosts", "redis-frontend01");
        Assert.True(resolved.ExitCode == 0, resolved.Output);
        var address = IPAddress.Parse(resolved.Output.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]);
        Assert.True(await HasLinkRouteAsync("frontend01", web, address), $"the web front end has no route of its own to its Redis at {address}");
        Assert.Contains("Connected to", (await ConnectAsync("frontend01", web, address.ToString())).Output, StringComparison.Ordinal);

        // The balancer is on the edge, cluster, store and operators networks, never the data network: it cannot
        // resolve the Redis's name, and no interface of its leads to the Redis's subnet — a packet to that address
        // would only leave through its default route, off the Swarm. (No connection is tried from there: outside
        // the Swarm's networks this machine's own network accepts any connection, so "connected" would prove
        // nothing, and the attempt would leave the machine.)
        var balancer = await ContainerAsync("interlock", "balancer");
        Assert.NotEqual(0, (await DockerAsync("exec", "interlock", "docker", "exec", balancer, "getent", "hosts", "redis-frontend01")).ExitCode);
        Assert.False(await HasLinkRouteAsync("interlock", balancer, address), $"the balancer has a route of its own to a Redis at {address}");
    }

    /// <summary>
    /// pg_auto_failover's own users sign in with their passwords only: its replication user (a superuser) on both data
    /// nodes, for a session or for replication, and its keepers' <c>autoctl_node</c> on the monitor — each refused
    /// without the password, from the store network every service is on (tried from postgres02's container, which
    /// has psql; the password file its keeper uses is not given to these attempts), and admitted with the secret's.
    /// The monitor's health-check user, whose password pg_auto_failover publishes, reaches the postgres database only.
    /// </summary>
    [Fact]
    public async Task PgAutoFailoversUsersAreRefusedWithoutTheirPasswordsFromTheStoreNetwork()
    {
        var standby = await ContainerAsync("worker01", "postgres02");
        string[] nodes = ["postgres01.voting_store-plain", "postgres02.voting_store-plain"];
        foreach (var node in nodes)
        {
            foreach (var replication in new[] { "", " replication=true" })
            {
                var refused = await PsqlAsync(standby, $"host={node} user=pgautofailover_replicator dbname=postgres{replication}", replication.Length > 0 ? "IDENTIFY_SYSTEM" : "SELECT 1");
                Assert.True(refused.ExitCode != 0, $"{node} admitted pgautofailover_replicator{replication} without a password: {refused.Output}");
                Assert.Contains("password", refused.Output, StringComparison.Ordinal);
            }

            var admitted = await PsqlAsync(standby, $"host={node} user=pgautofailover_replicator dbname=postgres", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
                password: "voting_postgres_replication_password");
            Assert.True(admitted.ExitCode == 0 && admitted.Output.Trim() == "t", $"{node} refused pgautofailover_replicator with its password: {admitted.Output}");

            var health = await PsqlAsync(standby, $"host={node} user=pgautofailover_monitor password=pgautofailover_monitor dbname=voting", "SELECT 1");
            Assert.True(health.ExitCode != 0, $"{node} admitted the health-check user to the votes database: {health.Output}");
            Assert.Contains("pg_hba.conf rejects connection", health.Output, StringComparison.Ordinal);
        }

        var monitor = await PsqlAsync(standby, "host=pgmonitor user=autoctl_node dbname=pg_auto_failover", "SELECT count(*) FROM pgautofailover.node");
        Assert.True(monitor.ExitCode != 0, $"the monitor admitted autoctl_node without a password: {monitor.Output}");
        Assert.Contains("password", monitor.Output, StringComparison.Ordinal);
        var keeper = await PsqlAsync(standby, "host=pgmonitor user=autoctl_node dbname=pg_auto_failover", "SELECT count(*) FROM pgautofailover.node",
            password: "voting_postgres_autoctl_password");
        Assert.True(keeper.ExitCode == 0 && keeper.Output.Trim() == "2", $"the monitor refused autoctl_node with its password: {keeper.Output}");
    }

    /// <summary>
    /// One psql command in <paramref name="container"/> (on node worker01), with no password file and never asking
    /// for one, but with the password of the secret <paramref name="password"/> when one is named.
    /// </summary>
    private static Task<(int ExitCode, string Output)> PsqlAsync(string container, string connection, string command, string? password = null) =>
        DockerAsync("exec", "worker01", "docker", "exec", "-e", "PGPASSFILE=/nonexistent", "-e", "PGCONNECT_TIMEOUT=5", container, "sh", "-c",
            (password is null ? "" : $"PGPASSWORD=$(cat /run/secrets/{password}) ") + "exec psql -X -w -At \"$0\" -c \"$1\"",
            connection + " sslmode=disable", command);

    /// <summary>
    /// Whether the container's routing table (<c>/proc/net/route</c>) has a route other than the default one that
    /// covers <paramref name="address"/>: a network the container is on.
    /// </summary>
    private static async Task<bool> HasLinkRouteAsync(string node, string container, IPAddress address)
    {
        var table = await DockerAsync("exec", node, "docker", "exec", container, "cat", "/proc/net/route");
        Assert.True(table.ExitCode == 0, table.Output);
        // Little-endian hex, as the kernel prints them: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
        var target = BitConverter.ToUInt32(address.GetAddressBytes());
        return table.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(line => line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(fields => fields.Length >= 8)
            .Select(fields => (Destination: Convert.ToUInt32(fields[1], 16), Mask: Convert.ToUInt32(fields[7], 16)))
            .Any(route => route.Mask != 0 && (target & route.Mask) == route.Destination);
    }

    /// <summary>A TCP connection attempt to Redis's port from a container (curl's telnet mode), at most a few seconds.</summary>
    private static Task<(int ExitCode, string Output)> ConnectAsync(string node, string container, string address) =>
        DockerAsync("exec", node, "docker", "exec", container, "curl", "-v", "--connect-timeout", "3", "--max-time", "4", $"telnet://{address}:6379");

    private static async Task<string> ContainerAsync(string node, string service)
    {
        var listed = await DockerAsync("exec", node, "docker", "ps", "-q", "--filter", $"label=com.docker.swarm.service.name=voting_{service}");
        return listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is [var first, ..]
            ? first
            : throw new InvalidOperationException($"no {service} container runs on {node}: {listed.Output}");
    }

    /// <summary>The docker command line of this machine (the nodes are its containers); output and errors together.</summary>
    private static async Task<(int ExitCode, string Output)> DockerAsync(params string[] arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException("docker did not start");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        return (process.ExitCode, (await output) + (await error));
    }

    [Theory]
    [InlineData("web-container")]
    [InlineData("redis-container")]
    [InlineData("worker")]
    [InlineData("postgres")]
    [InlineData("results")]
    [InlineData("manager")]
    [InlineData("frontend-node")]
    [InlineData("partition")]
    [InlineData("primary-node")]
    public async Task EveryAcknowledgedVoteIsCountedOnceThroughTheFailure(string fault)
    {
        var chaos = await swarm.Voting.RunAsync(["swarm", "chaos", "--fault", fault, "--rate", "60"], TimeSpan.FromMinutes(12));
        output.WriteLine(chaos.ToString());
        Assert.True(chaos.ExitCode == 0, chaos.ToString());
        Assert.Contains("a vote through the balancer was taken during the fault", chaos.Output, StringComparison.Ordinal);
        Assert.Contains("AUDIT PASSED", chaos.Output, StringComparison.Ordinal);
        if (fault == "primary-node")
        {
            // The standby took over: writes through the multi-host connection string and the drain resumed.
            Assert.Matches(@"failover: a write accepted through the multi-host connection string \d+\.\d s after the kill", chaos.Output);
            Assert.Matches(@"drain stall: a vote counted again \d+\.\d s after the kill", chaos.Output);
        }
    }

    /// <summary>
    /// The company's close of the poll on the Swarm, from this machine through the operators' tunnel: closed, votes
    /// refused through the balancer, sealed once every stream is drained (as the workers verify), and the export
    /// verified as anyone would. Last: a closed poll stays closed.
    /// </summary>
    [Fact]
    [ClosesThePoll]
    public async Task ThePollIsClosedSealedAndVerifiedFromTheCommandLine()
    {
        Assert.Contains("phase       open", (await PollAsync(0, "poll", "status", "--swarm")).Output, StringComparison.Ordinal);
        Assert.Contains("The poll closes at", (await PollAsync(0, "poll", "close", "--swarm")).Output, StringComparison.Ordinal);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!(await swarm.Voting.RunAsync("poll", "status", "--swarm")).Output.Contains("phase       closed", StringComparison.Ordinal))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1), "the Swarm's poll did not close after the notice");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        using (var voter = swarm.Browser(new CookieContainer()))
        {
            voter.BaseAddress = swarm.Vote;
            (await voter.GetAsync("/")).EnsureSuccessStatusCode();
            using var refused = await voter.PostAsJsonAsync("/api/votes", new { option = "a" });
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        var export = Path.Combine(Voting.Testing.TestDirectories.Create("swarm-seal"), "export");
        var seal = await PollAsync(0, ["poll", "seal", "--swarm", "--out", export], TimeSpan.FromMinutes(8));
        Assert.Contains("verifies", seal.Output, StringComparison.Ordinal);
        var total = long.Parse(Regex.Match(seal.Output, @"total: (?<n>[\d,]+)").Groups["n"].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(total > 0, seal.Output);
        Assert.Contains("verifies", (await PollAsync(0, "verify", export)).Output, StringComparison.Ordinal);
    }

    private Task<CommandResult> PollAsync(int exitCode, params string[] arguments) => PollAsync(exitCode, arguments, TimeSpan.FromMinutes(2));

    private async Task<CommandResult> PollAsync(int exitCode, string[] arguments, TimeSpan timeout)
    {
        var result = await swarm.Voting.RunAsync(arguments, timeout);
        output.WriteLine($"$ ./voting {string.Join(' ', arguments)}\n{result}");
        Assert.True(result.ExitCode == exitCode, $"./voting {string.Join(' ', arguments)}: {result}");
        return result;
    }
}

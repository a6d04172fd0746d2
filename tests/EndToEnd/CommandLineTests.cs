using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using Voting.Local.Processes;
using Voting.Testing;
using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// <c>./voting</c> as a user runs it, through the same command line: the system started, voted on, grown by a front
/// end, that front end's votes drained and the front end retired, everything stopped; and commands it does not
/// understand refused with the usage, starting nothing.
/// </summary>
public sealed partial class CommandLineTests(ITestOutputHelper output)
{
    [Fact]
    public async Task UnknownCommandsAndOptionsAreRefusedWithTheUsageAndStartNothing()
    {
        var voting = VotingCommand.ForNewSystem(frontends: 1);
        foreach (var arguments in new[] { ["up", "--bogus"], ["bogus"], ["add", "database"], ["retire"], ["stop", "frontend1"], ["bench", "accept", "5000"], Array.Empty<string>() })
        {
            var result = await voting.RunAsync(arguments);
            Assert.True(result.ExitCode == 2, $"./voting {string.Join(' ', arguments)}: {result}");
            Assert.Contains("Usage:", result.Error, StringComparison.Ordinal);
            Assert.Equal("", result.Output);
        }

        Assert.Contains("Unrecognized command or argument '--bogus'", (await voting.RunAsync("up", "--bogus")).Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(voting.Environment["VOTING_DATA"], "run")), "a refused command started something");
    }

    [Fact]
    public async Task AnUnusableRedisMaxMemoryIsRefusedNamingTheVariableAndStartsNothing()
    {
        var voting = new VotingCommand(new Dictionary<string, string>(VotingCommand.ForNewSystem(frontends: 1).Environment)
        {
            ["VOTING_REDIS_MAXMEMORY"] = "lots",
        });

        var result = await voting.RunAsync("up", "--detach");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("VOTING_REDIS_MAXMEMORY must be a Redis memory size", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(voting.Environment["VOTING_DATA"], "run")), "a refused command started something");
    }

    [Fact]
    public async Task TheSystemStartsTakesVotesGrowsRetiresAFrontEndAndStops()
    {
        var voting = VotingCommand.ForNewSystem(frontends: 1);
        try
        {
            // up --detach: everything started and ready, and the URLs printed.
            var up = await RunAsync(voting, "up", "--detach");
            var vote = new Uri(Line(up, "Vote:"));
            var connectionString = Line(up, "PostgreSQL:");

            // Starting again leaves what runs be.
            Assert.Contains("worker01 already runs", (await RunAsync(voting, "up", "--detach")).Output, StringComparison.Ordinal);

            // A vote through the load balancer.
            var first = await VoteAsync(vote, "a");

            // status: every process running, every application ready.
            var status = await RunAsync(voting, "status");
            foreach (var name in new[] { "postgres", "redis01", "worker01", "frontend01", "results", "balancer" })
            {
                Assert.Matches($@"(?m)^  {name} +running \(pid \d+\)", status.Output);
            }

            Assert.Equal(4, ReadyLine().Count(status.Output));

            // add frontend: frontend02 with a Redis of its own, registered, drained.
            var added = await RunAsync(voting, "add", "frontend");
            var frontend02 = new Uri(AddedLine().Match(added.Output).Groups["url"].Value);
            var second = await VoteAsync(frontend02, "b");
            await WaitUntilCountedAsync(connectionString, new() { [first.VoterId] = ("a", "frontend01"), [second.VoterId] = ("b", "frontend02") });
            var processes = Processes(voting);
            Assert.Equal(8, processes.Length);

            // stop frontend02, then retire it once the registry no longer counts it as running; its Redis stops with it.
            await RunAsync(voting, "stop", "frontend02");
            var retired = await RetireAsync(voting, "frontend02");
            Assert.Contains("is retired", retired.Output, StringComparison.Ordinal);
            var afterRetire = await RunAsync(voting, "status");
            Assert.DoesNotContain("frontend02", afterRetire.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("redis02", afterRetire.Output, StringComparison.Ordinal);

            // down: every process it started has ended, and nothing is left remembered.
            Assert.Contains("Stopped.", (await RunAsync(voting, "down")).Output, StringComparison.Ordinal);
            Assert.DoesNotContain(processes, p => p.IsAlive());

            Assert.Empty(Directory.GetFiles(Path.Combine(voting.Environment["VOTING_DATA"], "run")));
        }
        finally
        {
            // Whatever happened, leave nothing running.
            output.WriteLine((await voting.RunAsync("down")).ToString());
        }
    }

    [Fact]
    public async Task UpWithTlsServesTheVotesAndTheResultsOverHttpsWithItsOwnCertificateAndTheLoadToolTrustsIt()
    {
        var voting = VotingCommand.ForNewSystem(frontends: 1);
        try
        {
            var up = await RunAsync(voting, "up", "--tls", "--detach");
            var vote = new Uri(Line(up, "Vote:"));
            var results = new Uri(Line(up, "Results:"));
            Assert.Equal(("https", voting.Environment["VOTING_BALANCER_HTTPS_PORT"]), (vote.Scheme, vote.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(("https", voting.Environment["VOTING_RESULTS_HTTPS_PORT"]), (results.Scheme, results.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var certificate = Regex.Match(up.Output, @"(?m)^  TLS: +self-signed certificate (?<path>\S+)").Groups["path"].Value.TrimEnd(':');
            Assert.True(File.Exists(certificate), up.ToString());

            // The load tool votes through the balancer and reads the results app, both over HTTPS, trusting that
            // certificate (./voting load passes it --ca): its audit compares the results app's counts with the tallies.
            var load = await voting.RunAsync(["load", "--voters", "40", "--concurrency", "4", "--duration", "60s"], TimeSpan.FromMinutes(4));
            output.WriteLine($"$ ./voting load\n{load}");
            Assert.True(load.ExitCode == 0, load.ToString());
            Assert.Contains("AUDIT PASSED", load.Output, StringComparison.Ordinal);
            Assert.Contains("results " + results, load.Output, StringComparison.Ordinal);

            // The results app over HTTPS trusts nothing but that certificate here; its plain port redirects there.
            var handler = new SocketsHttpHandler { AllowAutoRedirect = false };
            handler.SslOptions.CertificateChainPolicy = new Voting.Local.Tls.EdgeCertificate(certificate, Path.ChangeExtension(certificate, ".key")).TrustPolicy();
            using var https = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
            using (var api = await https.GetAsync(new Uri(results, "api/results")))
            {
                Assert.Equal(HttpStatusCode.OK, api.StatusCode);
            }

            using var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
            using (var redirected = await plain.GetAsync($"http://127.0.0.1:{voting.Environment["VOTING_RESULTS_PORT"]}/api/results"))
            {
                Assert.Equal(HttpStatusCode.PermanentRedirect, redirected.StatusCode);
                Assert.Equal(new Uri(results, "api/results"), redirected.Headers.Location);
            }

            // Closed and sealed, the receipts the load kept are checked against the results app over HTTPS too
            // (./voting receipts passes it the certificate).
            Assert.Equal(0, (await voting.RunAsync("poll", "close")).ExitCode);
            await Poll.UntilAsync(async () => (await voting.RunAsync("poll", "status")).Output.Contains("phase       closed", StringComparison.Ordinal),
                TimeSpan.FromMinutes(1), "the poll did not close after the notice");
            Assert.Contains("verifies", (await RunAsync(voting, "poll", "seal", "--out", Path.Combine(voting.Environment["VOTING_DATA"], "export"))).Output, StringComparison.Ordinal);
            var receipts = await RunAsync(voting, "receipts");
            Assert.Matches(@"Receipts: checked [\d,]+  included [\d,]+ .* failed 0", receipts.Output);
        }
        finally
        {
            output.WriteLine((await voting.RunAsync("down")).ToString());
        }
    }

    [Fact]
    public async Task WithPostgresHaVotesAreCountedThroughAFailoverAndTheOldPrimaryRejoinsAsTheStandby()
    {
        var voting = VotingCommand.ForNewSystem(frontends: 1);
        try
        {
            var up = await RunAsync(voting, "up", "--detach", "--postgres-ha");
            var vote = new Uri(Line(up, "Vote:"));
            var connectionString = Regex.Match(up.Output, @"(?m)^  PostgreSQL: +(?<value>.+)$").Groups["value"].Value.Trim();
            Assert.Contains("Target Session Attributes=read-write", connectionString, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^ +postgres01 127\.0\.0\.1:\d+ \(primary\)$", up.Output);
            Assert.Matches(@"(?m)^ +postgres02 127\.0\.0\.1:\d+ \(standby\)$", up.Output);
            var status = await RunAsync(voting, "status");
            Assert.Matches(@"(?m)^  pgmonitor +running \(pid \d+\)$", status.Output);
            Assert.Matches(@"(?m)^  postgres01 +running \(pid \d+\), primary$", status.Output);
            Assert.Matches(@"(?m)^  postgres02 +running \(pid \d+\), secondary$", status.Output);
            var before = await VoteAsync(vote, "a");
            await WaitUntilCountedAsync(connectionString, new() { [before.VoterId] = ("a", "frontend01") });

            // The primary stopped: the standby takes over, and a vote cast now is counted with the same connection string.
            await RunAsync(voting, "stop", "postgres01");
            var during = await VoteAsync(vote, "b");
            await WaitUntilCountedAsync(connectionString, new() { [before.VoterId] = ("a", "frontend01"), [during.VoterId] = ("b", "frontend01") });
            Assert.Matches(@"(?m)^  postgres02 +running \(pid \d+\), (wait_)?primary$", (await RunAsync(voting, "status")).Output);

            // Started again, the old primary is the new standby.
            await RunAsync(voting, "start", "postgres01");
            status = await RunAsync(voting, "status");
            Assert.Matches(@"(?m)^  postgres01 +running \(pid \d+\), secondary$", status.Output);
            Assert.Matches(@"(?m)^  postgres02 +running \(pid \d+\), primary$", status.Output);

            var processes = Processes(voting);
            Assert.Contains("Stopped.", (await RunAsync(voting, "down")).Output, StringComparison.Ordinal);
            Assert.DoesNotContain(processes, p => p.IsAlive());
            Assert.Empty(Directory.GetFiles(Path.Combine(voting.Environment["VOTING_DATA"], "run")));
        }
        finally
        {
            output.WriteLine((await voting.RunAsync("down")).ToString());
        }
    }

    private async Task<CommandResult> RunAsync(VotingCommand voting, params string[] arguments)
    {
        var result = await voting.RunAsync(arguments);
        output.WriteLine($"$ ./voting {string.Join(' ', arguments)}\n{result}");
        Assert.True(result.ExitCode == 0, $"./voting {string.Join(' ', arguments)}: {result}");
        return result;
    }

    /// <summary>Retires the front end, asking again while the registry still counts it as running.</summary>
    private async Task<CommandResult> RetireAsync(VotingCommand voting, string frontend)
    {
        CommandResult result = null!;
        await Poll.UntilAsync(
            async () =>
            {
                result = await voting.RunAsync("retire", frontend);
                return result.ExitCode == 0;
            },
            TimeSpan.FromSeconds(90),
            () => Task.FromResult($"./voting retire {frontend} kept refusing: {result}"));
        output.WriteLine($"$ ./voting retire {frontend}\n{result}");
        return result;
    }

    private static async Task<(Guid VoterId, Guid VoteId)> VoteAsync(Uri frontend, string option)
    {
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = frontend, Timeout = TimeSpan.FromSeconds(10) };
        (await http.GetAsync("/")).EnsureSuccessStatusCode();
        using var response = await http.PostAsJsonAsync("/api/votes", new { option });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var receipt = await response.Content.ReadFromJsonAsync<Receipt>();
        return (receipt!.VoterId, receipt.VoteId);
    }

    private static async Task WaitUntilCountedAsync(string connectionString, Dictionary<Guid, (string Option, string Frontend)> expected)
    {
        await using var database = NpgsqlDataSource.Create(connectionString);
        var found = new Dictionary<Guid, (string, string)>();
        await Poll.UntilAsync(
            async () =>
            {
                await using var command = database.CreateCommand("SELECT voter_id, option, frontend_id FROM votes WHERE voter_id = ANY(@voters)");
                command.Parameters.AddWithValue("voters", expected.Keys.ToArray());
                found.Clear();
                try
                {
                    await using var reader = await command.ExecuteReaderAsync();
                    while (await reader.ReadAsync())
                    {
                        found[reader.GetGuid(0)] = (reader.GetString(1), reader.GetString(2));
                    }
                }
                catch (NpgsqlException)
                {
                    // No primary for the moment (a failover): ask again.
                    return false;
                }

                return expected.All(e => found.TryGetValue(e.Key, out var row) && row == e.Value);
            },
            TimeSpan.FromSeconds(60),
            () => Task.FromResult($"PostgreSQL holds {found.Count} of the {expected.Count} votes"));
    }

    private static string Line(CommandResult result, string label) =>
        Regex.Match(result.Output, $@"(?m)^  {Regex.Escape(label)} +(?<value>\S+)").Groups["value"] is { Success: true } value
            ? value.Value
            : throw new Xunit.Sdk.XunitException($"no '{label}' line in the output of ./voting up:\n{result}");

    /// <summary>The processes the command line remembers having started (<c>run/*.json</c>), by pid and start time.</summary>
    private static ProcessIdentity[] Processes(VotingCommand voting) =>
        [.. Directory.GetFiles(Path.Combine(voting.Environment["VOTING_DATA"], "run"), "*.json")
            .Select(file => JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("process"))
            .Select(process => new ProcessIdentity(process.GetProperty("pid").GetInt32(), process.GetProperty("startTime").GetInt64()))];

    [GeneratedRegex(@"running \(pid \d+\), ready: 200")]
    private static partial Regex ReadyLine();

    [GeneratedRegex(@"(?m)^frontend02 is up: (?<url>\S+) \(Redis 127\.0\.0\.1:\d+\)")]
    private static partial Regex AddedLine();

    private sealed record Receipt(Guid VoteId, Guid VoterId);
}

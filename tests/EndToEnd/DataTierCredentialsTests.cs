using System.Net;
using StackExchange.Redis;
using Voting.Local.Servers;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The whole system signs in to its data tier with per-service credentials (docs/SECURITY.md): votes flow with them,
/// no command the applications send is refused, and no password shows in an API answer or a log line.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class DataTierCredentialsTests(VotingSystemFixture system) : IDisposable
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);
    private readonly HttpClient _operator = TestApps.ManagementClient();

    public void Dispose() => _operator.Dispose();

    [Fact]
    public async Task VotesFlowWithTheAclUsersAndNoCommandTheFrontEndOrTheDrainersSendIsRefused()
    {
        var frontend = system.Frontends[0];
        await using var redis = await frontend.Redis.ConnectAsync();
        await redis.GetDatabase().ExecuteAsync("ACL", "LOG", "RESET");

        await VoteUntilCountedAsync(frontend, "a");
        using (var ready = await _operator.GetAsync(new Uri(frontend.App.ManagementAddress, "health/ready")))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        // Redis logs every command its ACL refused and every failed sign-in: none from the front end (appending, its
        // readiness check's INFO, StackExchange.Redis's own commands) or the drainer (reading, claiming, trimming).
        var refused = (RedisResult[])(await redis.GetDatabase().ExecuteAsync("ACL", "LOG"))!;
        Assert.True(refused.Length == 0, "refused: " + string.Join("; ", refused.Select(Describe)));
    }

    [Fact]
    public async Task NoPasswordShowsInAnApiAnswerOrALogLine()
    {
        var passwords = new[] { TestApps.RedisAccounts.Frontend, TestApps.RedisAccounts.Drainer, TestApps.RedisAccounts.Operator }
            .Select(c => c.Password).Concat(TestApps.PostgresRoles.All.Select(r => r.Password)).ToArray();
        var answers = new List<(string What, string Text)>();
        foreach (var (app, path) in new[]
        {
            (system.Worker, "api/frontends"), (system.Worker, "api/drainers"), (system.Results, "api/pipeline"),
            (system.Balancer, "balancer/frontends"), (system.Worker, "health/ready"), (system.Frontends[0].App, "health/ready"),
            (system.Results, "health/ready"), (system.Balancer, "health/ready"),
        })
        {
            // Whatever the status (a health check may be failing): its text is what must not show a password.
            using var answer = await _operator.GetAsync(new Uri(app.ManagementAddress, path));
            answers.Add(($"{app.Process.Name} /{path}", await answer.Content.ReadAsStringAsync()));
        }

        foreach (var log in Directory.EnumerateFiles(system.Worker.Launch.LogDirectory, "*.log"))
        {
            answers.Add((log, await File.ReadAllTextAsync(log)));
        }

        Assert.Contains(answers, a => a.Text.Contains(system.Frontends[0].Redis.Endpoint, StringComparison.Ordinal));
        foreach (var (what, text) in answers)
        {
            foreach (var password in passwords)
            {
                Assert.False(text.Contains(password, StringComparison.Ordinal), $"{what} shows a password");
            }
        }
    }

    [Fact]
    public async Task EveryApplicationConnectsToPostgresAsItsOwnRoleAndNoneAsTheSuperuser()
    {
        // Each application names its connections after itself (Npgsql's Application Name), Orleans' own connections
        // have none: every connection but the tests' own is a service role's.
        await using var command = system.Database.CreateCommand(
            "SELECT DISTINCT usename, application_name, r.rolsuper FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid WHERE datname = 'voting'");
        await using var reader = await command.ExecuteReaderAsync();
        var connections = new List<(string Role, string Application, bool Superuser)>();
        while (await reader.ReadAsync())
        {
            connections.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
        }

        var description = string.Join(", ", connections.Select(c => $"{c.Role} ({c.Application})"));
        Assert.DoesNotContain(connections, c => c.Superuser && c.Application.StartsWith("Voting.", StringComparison.Ordinal));
        Assert.Contains(connections, c => c is { Role: PostgresRoles.Worker, Application: "Voting.Silo" });
        Assert.Contains(connections, c => c is { Role: PostgresRoles.Results, Application: "Voting.Results" });
        Assert.True(connections.Any(c => c.Role == PostgresRoles.Web), "no front end's connection: " + description);
    }

    [Fact]
    public async Task NoApplicationRunsKerberosCodeToConnectToPostgres()
    {
        // Npgsql 10 prefers GSS session encryption, and for that loads MIT Kerberos' libgssapi_krb5 and calls it for
        // every new connection; this system signs in with passwords, so the applications turn it off
        // (PostgresConnectionDefaults) — a native library whose concurrent use can crash a silo as it starts.
        await VoteUntilCountedAsync(system.Frontends[0], "b");
        using var reader = new HttpClient();
        using (var results = await reader.GetAsync(new Uri(system.Results.BaseAddress, "api/results")))
        {
            Assert.Equal(HttpStatusCode.OK, results.StatusCode);
        }

        foreach (var app in new[] { system.Worker, system.Results, system.Balancer }.Concat(system.Frontends.Select(f => f.App)))
        {
            var maps = await File.ReadAllTextAsync($"/proc/{app.Process.Id}/maps");
            Assert.False(maps.Contains("libgssapi_krb5", StringComparison.Ordinal), $"{app.Process.Name} has loaded libgssapi_krb5");
        }
    }

    /// <summary>A new voter votes for <paramref name="option"/> at the front end; returns once the vote is in PostgreSQL.</summary>
    private async Task VoteUntilCountedAsync(Frontend frontend, string option)
    {
        using var browser = Browser.OfItsOwn();
        Assert.Equal(HttpStatusCode.OK, (await browser.OpenAsync(frontend.App.BaseAddress)).StatusCode);
        using var vote = await browser.VoteWithJsonAsync(frontend.App.BaseAddress, option);
        Assert.Equal(HttpStatusCode.Accepted, vote.StatusCode);
        var voterId = Guid.ParseExact(browser.VoterCookie(frontend.App.BaseAddress)![..32], "N");
        await Poll.UntilAsync(async () => (await system.Database.ReadVotesAsync([voterId])).ContainsKey(voterId), DrainTimeout,
            "the vote was not drained");
    }

    private static string Describe(RedisResult entry)
    {
        var fields = (RedisResult[])entry!;
        return string.Join(" ", fields.Select(f => f.Resp2Type == ResultType.BulkString || f.Resp2Type == ResultType.SimpleString ? f.ToString() : ""));
    }
}

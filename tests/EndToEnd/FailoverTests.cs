using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Testing;
using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests;

/// <summary>Two worker silos and a web front end as separate processes, their membership in PostgreSQL.</summary>
public sealed class FailoverFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly OwnedResources _owned = new();

    public PostgresServer Postgres { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    public IReadOnlyList<AppProcess> Workers { get; private set; } = [];

    public AppProcess Web { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var postgres = TestServers.StartPostgresAsync();
        var redis = Own(await TestServers.StartRedisAsync());
        Postgres = Own(await postgres);
        var connectionString = await Postgres.CreateDatabaseAsync("voting");
        Database = Own(NpgsqlDataSource.Create(connectionString));
        var apps = TestApps.Create(connectionString, TestDirectories.Create("failover"));

        var first = Own(apps.StartWorker("worker01"));
        await first.WaitReadyAsync(StartTimeout);
        var second = Own(apps.StartWorker("worker02"));
        Web = Own(apps.StartWeb("frontend01", redis.Endpoint));
        await Task.WhenAll(second.WaitReadyAsync(StartTimeout), Web.WaitReadyAsync(StartTimeout));
        Workers = [first, second];
    }

    // In reverse order: the applications, then the data source, then the servers.
    public async Task DisposeAsync() => await _owned.DisposeAsync();

    private T Own<T>(T resource)
        where T : IAsyncDisposable => _owned.Own(resource);
}

[CollectionDefinition(Name)]
public sealed class FailoverCollection : ICollectionFixture<FailoverFixture>
{
    public const string Name = "failover";
}

/// <summary>
/// <c>kill -9</c> of the worker silo that hosts the drainer while votes flow: draining resumes on the survivor and
/// every acknowledged vote is counted. Prints how long the front end's votes waited for a drainer.
/// </summary>
[Collection(FailoverCollection.Name)]
public sealed class FailoverTests(FailoverFixture cluster, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan ResumeTimeout = TimeSpan.FromSeconds(90);
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly HttpClient _management = TestApps.ManagementClient();

    [Fact]
    public async Task KillingTheWorkerThatHostsTheDrainerLosesNoAcknowledgedVote()
    {
        var acknowledged = new ConcurrentDictionary<Guid, Guid>();
        using var stopVoting = new CancellationTokenSource();
        var voters = Enumerable.Range(0, 4).Select(_ => VoteUntilAsync(acknowledged, stopVoting.Token)).ToArray();

        var before = await WaitForDrainerAsync(_ => true, s => s.BatchesCommitted > 0, "the drainer never committed");
        var victim = cluster.Workers.Single(w => HostsDrainer(w, before));
        var survivor = cluster.Workers.Single(w => w != victim);

        victim.Process.KillNow();
        var killedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var declaredDead = WaitUntilDeclaredDeadAsync(victim);
        var after = await WaitForDrainerAsync(s => HostsDrainer(survivor, s), s => s.FirstCommitAt is not null, "draining did not resume on the survivor");
        var deadAfter = await declaredDead;

        // Keep voting a little after the failover, then let the pipeline drain.
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stopVoting.CancelAsync();
        await Task.WhenAll(voters);

        await Poll.UntilAsync(
            async () => (await Missing(acknowledged)).Count == 0,
            ResumeTimeout,
            async () => $"{(await Missing(acknowledged)).Count} of {acknowledged.Count} acknowledged votes are not counted");
        var (tallies, counted) = await cluster.Database.ReadTalliesAndCountsAsync();
        Assert.Equal(counted, tallies);
        Assert.Equal(acknowledged.Count, counted.Values.Sum());

        output.WriteLine($"kill -9 of {victim.Process.Name} (silo port {victim.SiloPort}) at {killedAt:O}");
        output.WriteLine($"declared dead after {deadAfter.TotalSeconds:F1} s");
        output.WriteLine($"first batch committed by the survivor {(after.FirstCommitAt!.Value - killedAt).TotalSeconds:F1} s after the kill (observed after {clock.Elapsed.TotalSeconds:F1} s)");
        output.WriteLine($"{acknowledged.Count} votes acknowledged, all counted");
    }

    public void Dispose()
    {
        _http.Dispose();
        _management.Dispose();
    }

    private static bool HostsDrainer(AppProcess worker, JsonElement status) =>
        status.GetProperty("silo").GetString()!.Contains($":{worker.SiloPort}:", StringComparison.Ordinal);

    /// <summary>Polls the workers' <c>/api/drainers</c> until frontend01's drainer satisfies both conditions.</summary>
    private async Task<DrainerSnapshot> WaitForDrainerAsync(Func<JsonElement, bool> where, Func<DrainerSnapshot, bool> until, string failure)
    {
        DrainerSnapshot? found = null;
        await Poll.UntilAsync(
            async () =>
            {
                foreach (var worker in cluster.Workers.Where(w => !w.Process.HasExited))
                {
                    try
                    {
                        var statuses = JsonDocument.Parse(await _management.GetStringAsync(new Uri(worker.ManagementAddress, "api/drainers"))).RootElement;
                        foreach (var status in statuses.EnumerateArray().Where(s => s.GetProperty("frontendId").GetString() == "frontend01" && where(s)))
                        {
                            var snapshot = new DrainerSnapshot(status);
                            if (until(snapshot))
                            {
                                found = snapshot;
                                return true;
                            }
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        // The cluster is busy noticing the death; ask again.
                    }
                }

                return false;
            },
            ResumeTimeout,
            failure);
        return found!;
    }

    private async Task<TimeSpan> WaitUntilDeclaredDeadAsync(AppProcess victim)
    {
        var clock = Stopwatch.StartNew();
        await Poll.UntilAsync(
            async () =>
            {
                await using var command = cluster.Database.CreateCommand("SELECT count(*) FROM orleans_membership WHERE port = @port AND status = 6");
                command.Parameters.AddWithValue("port", victim.SiloPort!.Value);
                return (long)(await command.ExecuteScalarAsync())! > 0;
            },
            ResumeTimeout,
            "the killed silo was never declared dead");
        return clock.Elapsed;
    }

    /// <summary>Voters, each voting once, as fast as one connection allows, until told to stop.</summary>
    private async Task VoteUntilAsync(ConcurrentDictionary<Guid, Guid> acknowledged, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            // A voter after another, as fast as they come: each from an address of its own, as a crowd would.
            var address = ClientAddresses.Next();
            using var open = new HttpRequestMessage(HttpMethod.Get, cluster.Web.BaseAddress);
            open.Headers.Add("X-Forwarded-For", address);
            using var page = await _http.SendAsync(open, CancellationToken.None);
            var cookie = page.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
            using var vote = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.Web.BaseAddress, "api/votes"))
            {
                Content = JsonContent.Create(new { option = Random.Shared.Next(2) == 0 ? "a" : "b" }),
            };
            vote.Headers.Add("Cookie", cookie);
            vote.Headers.Add("X-Forwarded-For", address);
            using var response = await _http.SendAsync(vote, CancellationToken.None);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var receipt = JsonDocument.Parse(await response.Content.ReadAsStringAsync(CancellationToken.None)).RootElement;
            acknowledged[receipt.GetProperty("voterId").GetGuid()] = receipt.GetProperty("voteId").GetGuid();
        }
    }

    private async Task<List<Guid>> Missing(ConcurrentDictionary<Guid, Guid> acknowledged)
    {
        var stored = await cluster.Database.ReadVotesAsync(acknowledged.Keys);
        return acknowledged.Where(a => !stored.TryGetValue(a.Key, out var row) || row.VoteId != a.Value).Select(a => a.Key).ToList();
    }

    private sealed record DrainerSnapshot(JsonElement Status)
    {
        public long BatchesCommitted => Status.GetProperty("batchesCommitted").GetInt64();

        public DateTimeOffset? FirstCommitAt => Status.GetProperty("firstCommitAt").ValueKind == JsonValueKind.Null
            ? null
            : Status.GetProperty("firstCommitAt").GetDateTimeOffset();

        public static implicit operator JsonElement(DrainerSnapshot snapshot) => snapshot.Status;
    }
}

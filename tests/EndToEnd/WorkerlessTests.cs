using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// A web front end started before any worker silo: it forms the cluster on its own, accepts votes into its Redis,
/// and once a worker silo joins, the front end's registration goes through and the waiting votes are drained.
/// </summary>
public sealed class WorkerlessTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly OwnedResources _owned = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private NpgsqlDataSource _database = null!;
    private VotingApps _apps = null!;
    private AppProcess _web = null!;

    public async Task InitializeAsync()
    {
        var postgres = TestServers.StartPostgresAsync();
        var redis = Own(await TestServers.StartRedisAsync());
        var connectionString = await Own(await postgres).CreateDatabaseAsync("voting");
        _database = NpgsqlDataSource.Create(connectionString);
        _apps = TestApps.Create(connectionString, TestDirectories.Create("workerless"));
        // The front end's own role may create nothing: here, with no worker to migrate, it gets the schema owner's
        // connection for Orleans' tables, as an operator's one-off migration would give them.
        _web = Own(_apps.StartWeb("frontend01", redis.Endpoint, new Dictionary<string, string?>
        {
            ["Clustering__MigrationConnectionString"] = TestApps.PostgresRoles.As(connectionString, PostgresRoles.Owner),
        }));
        await _web.WaitReadyAsync(Timeout);
    }

    public void Dispose() => _http.Dispose();

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        await _owned.DisposeAsync();
    }

    [Fact]
    public async Task AFrontEndAcceptsVotesWhileNoWorkerSiloIsUpAndTheyAreCountedOnceOneJoins()
    {
        var receipts = new List<(Guid Voter, Guid Vote)>();
        for (var i = 0; i < 50; i++)
        {
            using var page = await _http.GetAsync(_web.BaseAddress);
            using var vote = new HttpRequestMessage(HttpMethod.Post, new Uri(_web.BaseAddress, "api/votes")) { Content = JsonContent.Create(new { option = "b" }) };
            vote.Headers.Add("Cookie", page.Headers.GetValues("Set-Cookie").Single().Split(';')[0]);
            using var response = await _http.SendAsync(vote);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var receipt = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            receipts.Add((receipt.GetProperty("voterId").GetGuid(), receipt.GetProperty("voteId").GetGuid()));
        }

        // Nothing drains them yet: no silo can host a drainer (and no worker has even created the votes table).
        await using (var votesTable = _database.CreateCommand("SELECT to_regclass('votes') IS NULL"))
        {
            Assert.True((bool)(await votesTable.ExecuteScalarAsync())!);
        }

        var worker = Own(_apps.StartWorker("worker01"));
        await worker.WaitReadyAsync(Timeout);

        await Poll.UntilAsync(
            async () =>
            {
                var stored = await _database.ReadVotesAsync(receipts.Select(r => r.Voter));
                return receipts.All(r => stored.TryGetValue(r.Voter, out var row) && row.VoteId == r.Vote);
            },
            Timeout,
            "the votes that waited in Redis were not drained after the worker silo joined");
    }

    private T Own<T>(T resource)
        where T : IAsyncDisposable => _owned.Own(resource);
}

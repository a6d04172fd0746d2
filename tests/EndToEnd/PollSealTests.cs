using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Voting.Grains;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Sealing.Ballots;
using Voting.Sealing.Export;
using Voting.Sealing.Verification;
using Voting.Storage.Streams;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// Sealing the count on a real system (PostgreSQL, a Redis, a worker silo, a front end, as separate processes), through
/// the workers' management API: refused while the poll is open, not yet during the close's grace nor while a front
/// end's stream cannot be verified drained, then sealed with every voter's latest vote; the export verifies with
/// nothing but its files, and a vote that reaches PostgreSQL after the seal changes neither the seal nor the export.
/// </summary>
public sealed class PollSealTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static readonly Dictionary<string, string?> PollSettings = new()
    {
        ["Poll__Managed"] = "true",
        ["Poll__SealGrace"] = "00:00:02",
        ["Poll__RefreshInterval"] = "00:00:00.500",
    };

    private readonly OwnedResources _owned = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly HttpClient _management = TestApps.ManagementClient(TimeSpan.FromSeconds(60));
    private NpgsqlDataSource _database = null!;
    private RedisServer _redis = null!;
    private AppProcess _worker = null!;
    private AppProcess _web = null!;

    public async Task InitializeAsync()
    {
        try
        {
            var postgres = TestServers.StartPostgresAsync();
            _redis = Own(await TestServers.StartRedisAsync());
            var connectionString = await Own(await postgres).CreateDatabaseAsync("voting");
            _database = NpgsqlDataSource.Create(connectionString);
            var apps = TestApps.Create(connectionString, TestDirectories.Create("poll-seal"));
            _worker = Own(apps.StartWorker("worker01", PollSettings));
            await _worker.WaitReadyAsync(Timeout);
            _web = Own(apps.StartWeb("frontend01", _redis.Endpoint, PollSettings));
            await _web.WaitReadyAsync(Timeout);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _management.Dispose();
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        await _owned.DisposeAsync();
    }

    [Fact]
    public async Task TheClosedPollIsSealedOnceEveryVoteIsCountedAndTheSealNeverChanges()
    {
        // Twelve voters; every third changes their mind: the seal must hold each one's latest vote, once.
        var latest = new Dictionary<Guid, Guid>();
        for (var i = 0; i < 12; i++)
        {
            var cookie = await NewVoterAsync();
            var (voter, vote) = await VoteAsync(cookie, i % 2 == 0 ? "a" : "b");
            latest[voter] = vote;
            if (i % 3 == 0)
            {
                latest[voter] = (await VoteAsync(cookie, i % 2 == 0 ? "b" : "a")).Vote;
            }
        }

        var open = await SealAsync();
        Assert.Equal(HttpStatusCode.Conflict, open.Status);
        Assert.Contains("The poll is open: only a closed poll is sealed", open.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("api/poll/seal")).StatusCode);

        using (var close = await _management.PostAsync(new Uri(_worker.ManagementAddress, "api/poll/close"), content: null))
        {
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        // Closing, then within the grace: not yet, and the answer says until when.
        var early = await SealAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, early.Status);
        Assert.Contains("may still be entering their front end's stream", early.Detail, StringComparison.Ordinal);
        Assert.NotNull(early.RetryAfter);

        // A front end's stream that cannot be read is not assumed drained.
        await _redis.StopAsync();
        var unverified = await SealUntilAsync(a => a.Detail.Contains("Redis cannot be read", StringComparison.Ordinal), "the seal did not wait on the front end whose Redis is down");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unverified.Status);
        Assert.Contains("frontend01's Redis cannot be read", unverified.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("api/poll/seal")).StatusCode);
        await _redis.RestartAsync();

        var answer = await SealUntilAsync(a => a.Status == HttpStatusCode.OK, "the poll was not sealed once its front end's stream was readable again");
        var manifest = answer.Body;
        Assert.Equal(latest.Count, manifest.GetProperty("total").GetInt64());
        Assert.Equal(JsonValueKind.Null, manifest.GetProperty("openedAt").ValueKind);

        // The export verifies with nothing but its files, and holds every voter's latest vote under their pseudonym.
        var export = await DownloadAsync("first");
        var verified = await ExportVerifier.VerifyAsync(export, CancellationToken.None);
        Assert.True(verified.Verified, string.Join("\n", verified.Problems));
        var pseudonyms = PseudonymKey.FromBase64(await File.ReadAllTextAsync(TestApps.Sealing.PseudonymKeyPath), "test");
        var ballots = (await File.ReadAllLinesAsync(Path.Combine(export, BallotsCsv.FileName))).Skip(1)
            .Select(line => line.Split(','))
            .ToDictionary(fields => fields[0], fields => Guid.Parse(fields[2]));
        Assert.Equal(latest.Count, ballots.Count);
        Assert.All(latest, vote => Assert.Equal(vote.Value, ballots[pseudonyms.Of(vote.Key).ToString()]));

        // A vote that reaches PostgreSQL after the seal (stamped before the close, appended late) is drained and
        // counted in the live tallies, and changes neither the seal nor its export.
        var late = new Vote(Guid.NewGuid(), Guid.CreateVersion7(), DateTime.UtcNow.AddMinutes(-1), "a");
        await using (var redis = await _redis.ConnectAsync())
        {
            await redis.GetDatabase().StreamAddAsync("votes", VoteStreamEntry.Encode(late, "frontend01"));
        }

        await Poll.UntilAsync(async () => (await _database.ReadVotesAsync([late.VoterId])).ContainsKey(late.VoterId), Timeout, "the late vote was not drained");
        var again = await SealAsync();
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(manifest.GetRawText(), again.Body.GetRawText());
        var second = await DownloadAsync("second");
        foreach (var file in (string[])[SealExport.ManifestFile, BallotsCsv.FileName, SealExport.PublicKeyFile])
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(export, file)), await File.ReadAllBytesAsync(Path.Combine(second, file)));
        }
    }

    private async Task<SealAnswer> SealAsync()
    {
        using var response = await _management.PostAsync(new Uri(_worker.ManagementAddress, "api/poll/seal"), content: null);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new SealAnswer(
            response.StatusCode, body,
            body.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : "",
            response.Headers.RetryAfter?.Delta);
    }

    /// <summary>Asks for the seal until the answer is the one expected; fails with the last answer's detail.</summary>
    private async Task<SealAnswer> SealUntilAsync(Func<SealAnswer, bool> expected, string description)
    {
        var deadline = DateTimeOffset.UtcNow + Timeout;
        while (true)
        {
            var answer = await SealAsync();
            if (expected(answer))
            {
                return answer;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"{description}: the last answer was {(int)answer.Status} {answer.Detail}");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    private Task<HttpResponseMessage> GetAsync(string path) => _management.GetAsync(new Uri(_worker.ManagementAddress, path));

    /// <summary>The export as an operator would fetch it, into a directory of its own.</summary>
    private async Task<string> DownloadAsync(string name)
    {
        var directory = Path.Combine(TestDirectories.Create("poll-seal-export"), name);
        Directory.CreateDirectory(directory);
        foreach (var (path, file) in new[] { ("api/poll/seal", SealExport.ManifestFile), ("api/poll/seal/ballots.csv", BallotsCsv.FileName), ("api/poll/seal/public-key.pem", SealExport.PublicKeyFile) })
        {
            using var response = await GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await File.WriteAllBytesAsync(Path.Combine(directory, file), await response.Content.ReadAsByteArrayAsync());
        }

        return directory;
    }

    private async Task<string> NewVoterAsync()
    {
        using var page = await _http.GetAsync(_web.BaseAddress);
        return page.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
    }

    /// <summary>A vote with the voter's cookie: the voter's id and the vote's, as the answer gives them.</summary>
    private async Task<(Guid Voter, Guid Vote)> VoteAsync(string cookie, string option)
    {
        using var vote = new HttpRequestMessage(HttpMethod.Post, new Uri(_web.BaseAddress, "api/votes")) { Content = JsonContent.Create(new { option }) };
        vote.Headers.Add("Cookie", cookie);
        using var response = await _http.SendAsync(vote);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}");
        return (body.GetProperty("voterId").GetGuid(), body.GetProperty("voteId").GetGuid());
    }

    private T Own<T>(T resource)
        where T : IAsyncDisposable => _owned.Own(resource);

    private sealed record SealAnswer(HttpStatusCode Status, JsonElement Body, string Detail, TimeSpan? RetryAfter);
}

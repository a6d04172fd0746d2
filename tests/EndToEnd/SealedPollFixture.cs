using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Voting.Local.Applications;
using Voting.Sealing.Ballots;
using Voting.Sealing.Receipts;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// A poll taken, closed, sealed and released on a real system (PostgreSQL, a Redis, a worker silo, a front end and
/// the results app, as separate processes), with the results under embargo until the operator's release. On the way
/// it keeps what the results app answered before the seal and, sealed, before the release: the tests assert on those
/// answers and on the released system.
/// </summary>
public sealed class SealedPollFixture : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static readonly Dictionary<string, string?> PollSettings = new()
    {
        ["Poll__Managed"] = "true",
        ["Poll__Embargo"] = "true",
        ["Poll__Name"] = "Cats <or> \"dogs\" & more?",
        ["Poll__SealGrace"] = "00:00:02",
        ["Poll__RefreshInterval"] = "00:00:00.500",
        ["Results__SealRefreshInterval"] = "00:00:00.500",
    };

    private readonly OwnedResources _owned = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly HttpClient _management = TestApps.ManagementClient(TimeSpan.FromSeconds(60));

    public AppProcess Worker { get; private set; } = null!;

    public AppProcess Web { get; private set; } = null!;

    public AppProcess Results { get; private set; } = null!;

    /// <summary>Every vote acknowledged, in order, with its voter and option.</summary>
    public List<CastVote> Votes { get; } = [];

    /// <summary>Each voter's latest vote: the ballot the seal must hold.</summary>
    public IEnumerable<CastVote> Latest => Votes.GroupBy(v => v.Voter).Select(g => g.Last());

    /// <summary>The votes a later one of the same voter superseded.</summary>
    public IEnumerable<CastVote> Superseded => Votes.GroupBy(v => v.Voter).SelectMany(g => g.SkipLast(1));

    public PseudonymKey Pseudonyms { get; private set; } = null!;

    /// <summary>What the results app answered while the poll was open (not sealed, under embargo).</summary>
    public IReadOnlyDictionary<string, Answer> BeforeSeal { get; private set; } = null!;

    /// <summary>What it answered once the seal was loaded, still under embargo.</summary>
    public IReadOnlyDictionary<string, Answer> BeforeRelease { get; private set; } = null!;

    /// <summary>The manifest as the worker sealed it.</summary>
    public byte[] WorkersManifest { get; private set; } = [];

    /// <summary>The worker's export of ballots.csv, as <c>./voting poll seal</c> fetches it.</summary>
    public byte[] WorkersBallots { get; private set; } = [];

    public async Task InitializeAsync()
    {
        try
        {
            var postgres = TestServers.StartPostgresAsync();
            var redis = Own(await TestServers.StartRedisAsync());
            var connectionString = await Own(await postgres).CreateDatabaseAsync("voting");
            var apps = TestApps.Create(connectionString, TestDirectories.Create("sealed-poll"));
            Worker = Own(apps.StartWorker("worker01", PollSettings));
            await Worker.WaitReadyAsync(Timeout);
            Web = Own(apps.StartWeb("frontend01", redis.Endpoint, PollSettings));
            Results = Own(apps.StartResults("results", PollSettings));
            await Task.WhenAll(Web.WaitReadyAsync(Timeout), Results.WaitReadyAsync(Timeout));
            Pseudonyms = PseudonymKey.FromBase64(await File.ReadAllTextAsync(TestApps.Sealing.PseudonymKeyPath), "test");

            // Eight voters; every third changes their mind, the first one twice.
            for (var i = 0; i < 8; i++)
            {
                var cookie = await NewVoterAsync();
                await VoteAsync(cookie, i % 2 == 0 ? "a" : "b");
                if (i % 3 == 0)
                {
                    await VoteAsync(cookie, i % 2 == 0 ? "b" : "a");
                }

                if (i == 0)
                {
                    await VoteAsync(cookie, "a");
                }
            }

            BeforeSeal = await AskAllAsync();

            await CommandAsync("close");
            WorkersManifest = await SealAsync();
            WorkersBallots = await _management.GetByteArrayAsync(new Uri(Worker.ManagementAddress, "api/poll/seal/ballots.csv"));

            // The seal is loaded once the answer under embargo is the embargo's, no longer "not sealed" nor "being loaded".
            await Poll.UntilAsync(async () => (await AskAsync("api/results/final")).Text.Contains("embargo", StringComparison.Ordinal), Timeout,
                "the results app did not load the seal");
            BeforeRelease = await AskAllAsync();

            await CommandAsync("release");
            await Poll.UntilAsync(async () => (await AskAsync("api/results/final")).Status == HttpStatusCode.OK, Timeout,
                "the sealed count was not published after the release");
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        _management.Dispose();
        await _owned.DisposeAsync();
    }

    public ReceiptCode CodeOf(Guid voter) => ReceiptCode.Of(Pseudonyms.Of(voter));

    /// <summary>A receipt's lookup path for <paramref name="vote"/> with <paramref name="code"/>.</summary>
    public static string ReceiptPath(Guid vote, ReceiptCode code) => $"api/receipts/{vote:D}?code={code}";

    /// <summary>A GET of the results app's public port: the status, the bytes, and the body as text.</summary>
    public async Task<Answer> AskAsync(string path)
    {
        using var response = await _http.GetAsync(new Uri(Results.BaseAddress, path));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return new Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, bytes);
    }

    /// <summary>The seal's every public surface and a real receipt's lookup, as the results app answers them now.</summary>
    private async Task<Dictionary<string, Answer>> AskAllAsync()
    {
        var paths = new List<string>
        {
            "", "api/results/final", "api/results/final/manifest.json", "api/results/final/ballots.csv",
            "api/results/final/public-key.pem", "api/results/final/chart.svg",
        };
        paths.AddRange(Votes.Take(2).Select(v => ReceiptPath(v.Vote, CodeOf(v.Voter))));
        var answers = new Dictionary<string, Answer>();
        foreach (var path in paths)
        {
            answers[path] = await AskAsync(path);
        }

        return answers;
    }

    private async Task CommandAsync(string command)
    {
        using var response = await _management.PostAsync(new Uri(Worker.ManagementAddress, "api/poll/" + command), content: null);
        Assert.True(response.IsSuccessStatusCode, $"poll {command}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Asks the worker to seal until it has (the close's grace, the drain): the signed manifest.</summary>
    private async Task<byte[]> SealAsync()
    {
        var deadline = DateTimeOffset.UtcNow + Timeout;
        while (true)
        {
            using var response = await _management.PostAsync(new Uri(Worker.ManagementAddress, "api/poll/seal"), content: null);
            var body = await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return body;
            }

            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable && DateTimeOffset.UtcNow < deadline,
                $"the poll was not sealed: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    private async Task<string> NewVoterAsync()
    {
        using var page = await _http.GetAsync(Web.BaseAddress);
        return page.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
    }

    private async Task VoteAsync(string cookie, string option)
    {
        using var vote = new HttpRequestMessage(HttpMethod.Post, new Uri(Web.BaseAddress, "api/votes")) { Content = JsonContent.Create(new { option }) };
        vote.Headers.Add("Cookie", cookie);
        using var response = await _http.SendAsync(vote);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}");
        Votes.Add(new CastVote(body.GetProperty("voterId").GetGuid(), body.GetProperty("voteId").GetGuid(), option));
    }

    private T Own<T>(T resource)
        where T : IAsyncDisposable => _owned.Own(resource);
}

/// <summary>A vote the front end acknowledged: its voter, its id, its option.</summary>
public sealed record CastVote(Guid Voter, Guid Vote, string Option);

/// <summary>An answer of the results app.</summary>
public sealed record Answer(HttpStatusCode Status, string? MediaType, byte[] Bytes)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Bytes);

    public JsonElement Json => JsonDocument.Parse(Bytes).RootElement;
}

[CollectionDefinition(Name)]
public sealed class SealedPollCollection : ICollectionFixture<SealedPollFixture>
{
    public const string Name = "sealed poll";
}

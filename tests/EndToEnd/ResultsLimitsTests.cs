using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Voting.Local.Applications;
using Voting.Sealing;
using Voting.Sealing.Ballots;
using Voting.Sealing.Manifest;
using Voting.Sealing.Postgres;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The results app's limits per client address (<c>Results:Limits</c>, docs/SECURITY.md), each test on a results app
/// of its own with small limits, next to the shared system: receipt lookups, ballots.csv downloads at once, the
/// general bucket; a refusal is 429 with <c>Retry-After</c> and the limit named; the client's address is believed from
/// <c>X-Forwarded-For</c> only from a trusted hop; the health probes are never limited.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class ResultsLimitsTests(VotingSystemFixture system)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A well-formed receipt lookup: answered 409 on the shared system (not sealed) when it is not limited.</summary>
    private const string Lookup = "api/receipts/0193a7f2-1c2e-7abc-8def-0123456789ab?code=04HM-ASW9-NF6Y";

    private static readonly Dictionary<string, string?> ThreeLookupsAnHour = new()
    {
        ["Results__Limits__Receipts__Permits"] = "3",
        ["Results__Limits__Receipts__Refill"] = "1",
        ["Results__Limits__Receipts__Period"] = "01:00:00",
    };

    [Fact]
    public async Task AnAddressOverTheReceiptLimitGets429WithRetryAfterWhileAnotherAddressIsServed()
    {
        await using var results = await StartAsync("limits-receipts", ThreeLookupsAnHour);
        using var http = Client();

        for (var i = 0; i < 3; i++)
        {
            var taken = await GetAsync(http, results, Lookup);
            Assert.True(taken.Status == HttpStatusCode.Conflict, $"lookup {i + 1}: {(int)taken.Status} {taken.Text}");
        }

        var refused = await GetAsync(http, results, Lookup);
        AssertLimited(refused, "receipts", "receipt lookups");
        // One permit an hour: the bucket has one again in at most an hour.
        Assert.InRange(refused.RetryAfter!.Value, 1, 3600);

        // Another client, named by the trusted loopback hop as the balancer or a CDN would: a bucket of its own.
        var other = await GetAsync(http, results, Lookup, forwardedFor: ClientAddresses.Next());
        Assert.True(other.Status == HttpStatusCode.Conflict, $"{(int)other.Status} {other.Text}");
        // The receipts' bucket is the lookups' alone: the limited address still has its general one.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, results, "api/results")).Status);

        using var management = TestApps.ManagementClient();
        var metrics = await management.GetStringAsync(new Uri(results.ManagementAddress, "metrics"));
        Assert.Matches("voting_results_requests_limited_total\\{[^}]*limit=\"receipts\"[^}]*\\} 1", metrics);
    }

    [Fact]
    public async Task ASpoofedForwardedForFromAnUntrustedHopChangesNothing()
    {
        // The test's requests come from loopback, which this app does not trust: their X-Forwarded-For is ignored.
        await using var results = await StartAsync("limits-untrusted", new Dictionary<string, string?>(ThreeLookupsAnHour)
        {
            ["Edge__TrustedProxies__0"] = "10.0.9.0/24",
        });
        using var http = Client();

        for (var i = 0; i < 3; i++)
        {
            var taken = await GetAsync(http, results, Lookup, forwardedFor: ClientAddresses.Next());
            Assert.True(taken.Status == HttpStatusCode.Conflict, $"lookup {i + 1}: {(int)taken.Status} {taken.Text}");
        }

        // A fourth address claimed, and none: the same client, the same empty bucket.
        AssertLimited(await GetAsync(http, results, Lookup, forwardedFor: ClientAddresses.Next()), "receipts", "receipt lookups");
        AssertLimited(await GetAsync(http, results, Lookup), "receipts", "receipt lookups");
    }

    [Fact]
    public async Task TheGeneralLimitRefusesTheRestButTheHealthProbesAndTheManagementPortAnswerAfterIt()
    {
        await using var results = await StartAsync("limits-general", new Dictionary<string, string?>
        {
            ["Results__Limits__General__Permits"] = "4",
            ["Results__Limits__General__Refill"] = "1",
            ["Results__Limits__General__Period"] = "01:00:00",
        });
        using var http = Client();

        // The page, its stylesheet (a static file), the API and an unknown path share the general bucket.
        foreach (var path in (string[])["", "results.css", "api/results", "no-such-page"])
        {
            var taken = await GetAsync(http, results, path);
            Assert.True(taken.Status != HttpStatusCode.TooManyRequests, $"/{path}: {taken.Text}");
        }

        AssertLimited(await GetAsync(http, results, "api/results"), "general", "Too many requests");
        AssertLimited(await GetAsync(http, results, ""), "general", "Too many requests");

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, results, "health/live")).Status);
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, results, "health/ready")).Status);
        }

        using var management = TestApps.ManagementClient();
        for (var i = 0; i < 10; i++)
        {
            using var live = await management.GetAsync(new Uri(results.ManagementAddress, "api/results/live"));
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
    }

    [Fact]
    public async Task AThirdConcurrentDownloadOfBallotsCsvFromOneAddressIsRefused()
    {
        // A sealed poll whose ballots.csv (about 11 MB) cannot be sent whole into the sockets' buffers while the
        // client reads nothing: a download stays in progress until the client lets go. Its own database and worker,
        // so that the shared system's poll stays unsealed.
        var database = await system.Postgres.CreateDatabaseAsync("results-downloads");
        var apps = TestApps.Create(database, TestDirectories.Create("results-downloads"));
        await using var worker = apps.StartWorker("downloads-worker");
        await worker.WaitReadyAsync(StartTimeout);
        await SealAsync(database, ballots: 150_000);
        await using var results = apps.StartResults("limits-downloads", new Dictionary<string, string?>
        {
            ["Results__SealRefreshInterval"] = "00:00:00.200",
            ["Results__Limits__ConcurrentDownloads"] = "2",
        });
        await results.WaitReadyAsync(StartTimeout);
        using var http = Client();
        await Poll.UntilAsync(async () => (await GetAsync(http, results, "api/results/final")).Status == HttpStatusCode.OK, StartTimeout,
            "the results app did not publish the seal");

        using var downloads = Client(slowReader: true);
        var ballots = new Uri(results.BaseAddress, "api/results/final/ballots.csv");
        var first = await downloads.GetAsync(ballots, HttpCompletionOption.ResponseHeadersRead);
        using var second = await downloads.GetAsync(ballots, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));

        var third = await GetAsync(http, results, "api/results/final/ballots.csv");
        AssertLimited(third, "concurrent-downloads", "already downloading ballots.csv");
        // Another address downloads while those two are in progress.
        using (var request = new HttpRequestMessage(HttpMethod.Get, ballots))
        {
            request.Headers.Add("X-Forwarded-For", ClientAddresses.Next());
            using var elsewhere = await downloads.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        }

        // One let go: its place comes back (once the app has seen the connection close).
        first.Dispose();
        await Poll.UntilAsync(async () => (await GetAsync(http, results, "api/results/final/ballots.csv")).Status == HttpStatusCode.OK, StartTimeout,
            "no download was served after one of the two in progress ended");
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, results, "health/ready")).Status);
    }

    private async Task<AppProcess> StartAsync(string name, IReadOnlyDictionary<string, string?> settings)
    {
        var results = system.Apps.StartResults(name, settings);
        try
        {
            await results.WaitReadyAsync(StartTimeout);
            return results;
        }
        catch
        {
            await results.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A client that, with <paramref name="slowReader"/>, opens each request's connection with a 4 KiB receive buffer,
    /// so that a response it does not read stops the sender within a few kilobytes.
    /// </summary>
    private static HttpClient Client(bool slowReader = false)
    {
        var handler = new SocketsHttpHandler { UseCookies = false, UseProxy = false };
        if (slowReader)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    private static async Task<Reply> GetAsync(HttpClient http, AppProcess results, string path, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(results.BaseAddress, path));
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Reply(response.StatusCode, response.Headers.RetryAfter?.Delta is { } delta ? (int)delta.TotalSeconds : null,
            response.Content.Headers.ContentType?.MediaType, text);
    }

    private static void AssertLimited(Reply answer, string limit, string sentence)
    {
        Assert.True(answer.Status == HttpStatusCode.TooManyRequests, $"{(int)answer.Status} {answer.Text}");
        Assert.True(answer.RetryAfter is >= 1, "429 without a Retry-After in seconds");
        Assert.Equal("application/json", answer.MediaType);
        var body = JsonDocument.Parse(answer.Text).RootElement;
        Assert.Equal(limit, body.GetProperty("limit").GetString());
        var error = body.GetProperty("error").GetString();
        Assert.Contains(sentence, error, StringComparison.Ordinal);
        Assert.Contains($"try again in {answer.RetryAfter} s", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// <paramref name="ballots"/> voters' rows written straight into <c>votes</c>, then the poll sealed there with the
    /// test system's sealing keys, as a worker would (its seal endpoint needs a closed poll; the ballots are what matter).
    /// </summary>
    private static async Task SealAsync(string database, int ballots)
    {
        await using var data = NpgsqlDataSource.Create(database);
        await using (var connection = await data.OpenConnectionAsync())
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY votes (voter_id, option, voted_at, vote_id, frontend_id) FROM STDIN (FORMAT BINARY)"))
        {
            var at = DateTimeOffset.UtcNow.AddMinutes(-1);
            for (var i = 0; i < ballots; i++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid);
                await copy.WriteAsync(i % 3 == 0 ? "b" : "a", NpgsqlDbType.Text);
                await copy.WriteAsync(at.UtcDateTime, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(Guid.CreateVersion7(at), NpgsqlDbType.Uuid);
                await copy.WriteAsync("frontend01", NpgsqlDbType.Text);
            }

            await copy.CompleteAsync();
        }

        using var signing = SealSigningKey.FromPemFile(TestApps.Sealing.SigningKeyPath, "Poll:SigningKeyPath");
        var pseudonyms = PseudonymKey.FromBase64(await File.ReadAllTextAsync(TestApps.Sealing.PseudonymKeyPath), "Poll:PseudonymKey");
        await new Sealer(data, pseudonyms, signing, TimeProvider.System)
            .SealAsync(new PollFacts("poll", "Cats or dogs", null, DateTimeOffset.UtcNow, ["a", "b"]), CancellationToken.None);
    }

    private sealed record Reply(HttpStatusCode Status, int? RetryAfter, string? MediaType, string Text);
}

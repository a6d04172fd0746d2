using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Voting.Local.Applications;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The poll's lifecycle on a real system (PostgreSQL, a Redis, a worker silo, a front end, the results app, as
/// separate processes): votes refused before the open and after the close (403 and a sentence, the page saying so),
/// a vote acknowledged before the close counted although it is drained after it, a front end whose copy of the
/// schedule is stale refusing votes (503, not ready) and taking them again once it hears the poll, the operators'
/// state surviving a worker restart, and the results embargo until the release.
/// </summary>
public sealed class PollLifecycleTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    // The close takes effect 12 s after the command; a front end refuses votes once its copy is 8 s old.
    private static readonly Dictionary<string, string?> PollSettings = new()
    {
        ["Poll__OpensAt"] = DateTimeOffset.UtcNow.AddDays(1).ToString("O", CultureInfo.InvariantCulture),
        ["Poll__Embargo"] = "true",
        ["Poll__CloseNotice"] = "00:00:12",
        ["Poll__MaxScheduleAge"] = "00:00:08",
        ["Poll__RefreshInterval"] = "00:00:00.500",
    };

    private readonly OwnedResources _owned = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly HttpClient _management = TestApps.ManagementClient(TimeSpan.FromSeconds(10));
    private NpgsqlDataSource _database = null!;
    private VotingApps _apps = null!;
    private AppProcess _worker = null!;
    private AppProcess _web = null!;
    private AppProcess _results = null!;

    public async Task InitializeAsync()
    {
        var postgres = TestServers.StartPostgresAsync();
        var redis = Own(await TestServers.StartRedisAsync());
        var connectionString = await Own(await postgres).CreateDatabaseAsync("voting");
        _database = NpgsqlDataSource.Create(connectionString);
        _apps = TestApps.Create(connectionString, TestDirectories.Create("poll"));
        _worker = _apps.StartWorker("worker01", PollSettings);
        await _worker.WaitReadyAsync(Timeout);
        _web = Own(_apps.StartWeb("frontend01", redis.Endpoint, PollSettings));
        _results = Own(_apps.StartResults("results", PollSettings));
        await Task.WhenAll(_web.WaitReadyAsync(Timeout), _results.WaitReadyAsync(Timeout));
    }

    public void Dispose()
    {
        _http.Dispose();
        _management.Dispose();
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _database.DisposeAsync();
        await _owned.DisposeAsync();
    }

    [Fact]
    public async Task VotesAreTakenOnlyWhileThePollIsOpenEveryAcknowledgedVoteIsCountedAndResultsWaitForTheRelease()
    {
        // Before the open: the page says when it opens, and votes are refused with 403 and the sentence.
        var page = await _http.GetStringAsync(_web.BaseAddress);
        Assert.Contains("The poll is not open yet: it opens at", page, StringComparison.Ordinal);
        Assert.DoesNotContain("name=\"vote\"", page, StringComparison.Ordinal);
        var early = await VoteAsync("a");
        Assert.Equal(HttpStatusCode.Forbidden, early.Status);
        Assert.Contains("The vote was not recorded. The poll is not open yet: it opens at", early.Detail, StringComparison.Ordinal);
        var form = await VoteFromFormAsync("a");
        Assert.Equal(HttpStatusCode.Forbidden, form.Status);
        Assert.Contains("The poll is not open yet", form.Body, StringComparison.Ordinal);

        // The operator opens it; it cannot be opened twice.
        Assert.Equal(HttpStatusCode.OK, (await CommandAsync("open")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await CommandAsync("open")).Status);
        var counted = new List<Receipt>();
        await Poll.UntilAsync(async () => (await VoteAsync("a")) is { Status: HttpStatusCode.Accepted } vote && Keep(counted, vote), Timeout,
            "the front end did not take votes after the poll was opened");
        for (var i = 0; i < 6; i++)
        {
            counted.Add(Accepted(await VoteAsync("a")));
        }

        for (var i = 0; i < 4; i++)
        {
            counted.Add(Accepted(await VoteAsync("b")));
        }

        await WaitCountedAsync(counted);

        // Under embargo: the public sees no count, the operator does (7 for a, 4 for b).
        await AssertEmbargoedAsync();
        var live = await _management.GetFromJsonAsync<JsonElement>(new Uri(_results.ManagementAddress, "api/results/live"));
        Assert.Equal(11, live.GetProperty("total").GetInt64());
        Assert.Equal(7, live.GetProperty("options")[0].GetProperty("count").GetInt64());

        // No worker silo: the front end's copy of the schedule goes stale, and it refuses votes with 503 and says
        // it is not ready; once the worker is back it takes votes again.
        await _worker.StopAsync(TimeSpan.FromSeconds(20));
        await Poll.UntilAsync(async () => !await _web.IsReadyAsync(), Timeout, "the front end stayed ready with a stale schedule");
        var stale = await VoteAsync("b");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stale.Status);
        Assert.Contains("has not been able to read the poll's schedule", stale.Detail, StringComparison.Ordinal);
        _worker = _worker.StartAgain();
        await _worker.WaitReadyAsync(Timeout);
        await _web.WaitReadyAsync(Timeout);
        counted.Add(Accepted(await VoteAsync("b")));

        // The close: announced now, in effect 12 s later. A vote just after the command is acknowledged; with the
        // worker stopped at once, it is drained only after the close, and counted.
        var close = await CommandAsync("close");
        Assert.Equal(HttpStatusCode.OK, close.Status);
        Assert.Equal("closing", close.Body.GetProperty("status").GetProperty("phase").GetString());
        var closesAt = close.Body.GetProperty("status").GetProperty("schedule").GetProperty("closesAt").GetDateTimeOffset();
        Assert.Equal(HttpStatusCode.Conflict, (await CommandAsync("close")).Status);
        await _worker.StopAsync(TimeSpan.FromSeconds(20));
        var late = Accepted(await VoteAsync("b"));
        Assert.True(late.AcceptedAt < closesAt, $"the vote at {late.AcceptedAt:O} is not before the close at {closesAt:O}");
        while (DateTimeOffset.UtcNow < closesAt.AddSeconds(1))
        {
            await Task.Delay(200);
        }

        Assert.False((await _database.ReadVotesAsync([late.Voter])).ContainsKey(late.Voter), "the late vote was drained before the close");
        _worker = _worker.StartAgain();
        await _worker.WaitReadyAsync(Timeout);
        counted.Add(late);
        await WaitCountedAsync(counted);

        // After the close (and the worker's restart: the operators' commands persist): refused with 403, the page says so.
        var poll = await _management.GetFromJsonAsync<JsonElement>(new Uri(_worker.ManagementAddress, "api/poll"));
        Assert.Equal("closed", poll.GetProperty("phase").GetString());
        await _web.WaitReadyAsync(Timeout);
        var after = await VoteAsync("a");
        Assert.Equal(HttpStatusCode.Forbidden, after.Status);
        Assert.Contains("The poll is closed: it closed at", after.Detail, StringComparison.Ordinal);
        Assert.Contains("The poll is closed: it closed at", await _http.GetStringAsync(_web.BaseAddress), StringComparison.Ordinal);
        var reopen = await CommandAsync("open");
        Assert.Equal(HttpStatusCode.Conflict, reopen.Status);
        Assert.Contains("is not opened again", reopen.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Still embargoed until the release; then everything is public.
        await AssertEmbargoedAsync();
        Assert.Equal(HttpStatusCode.OK, (await CommandAsync("release")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await CommandAsync("release")).Status);
        await Poll.UntilAsync(async () => (await _http.GetFromJsonAsync<JsonElement>(new Uri(_results.BaseAddress, "api/results"))).TryGetProperty("total", out var total)
            && total.GetInt64() == counted.Count, Timeout, "the results were not public after the release");
        Assert.Contains($"{counted.Count} votes", await _http.GetStringAsync(_results.BaseAddress), StringComparison.Ordinal);
        var events = await ReadStreamAsync(TimeSpan.FromSeconds(3));
        Assert.Contains("event: results", events, StringComparison.Ordinal);
        Assert.Contains($"\"total\":{counted.Count}", events, StringComparison.Ordinal);
    }

    /// <summary>The public page, API and event stream show no count and say that results will be announced.</summary>
    private async Task AssertEmbargoedAsync()
    {
        var api = await _http.GetStringAsync(new Uri(_results.BaseAddress, "api/results"));
        Assert.Contains("\"withheld\":true", api, StringComparison.Ordinal);
        Assert.Contains("will be announced", api, StringComparison.Ordinal);
        Assert.DoesNotContain("count", api, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("total", api, StringComparison.OrdinalIgnoreCase);

        var page = await _http.GetStringAsync(_results.BaseAddress);
        Assert.Contains("will be announced", page, StringComparison.Ordinal);
        Assert.DoesNotContain(" votes<", page, StringComparison.Ordinal);
        Assert.Matches("<div id=\"options\">\\s*</div>", page);

        var events = await ReadStreamAsync(TimeSpan.FromSeconds(3));
        Assert.Contains("event: embargo", events, StringComparison.Ordinal);
        Assert.DoesNotContain("event: results", events, StringComparison.Ordinal);
        Assert.DoesNotContain("event: pipeline", events, StringComparison.Ordinal);
        Assert.DoesNotContain("count", events, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("waiting", events, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>What the results' event stream sends in its first moments.</summary>
    private async Task<string> ReadStreamAsync(TimeSpan duration)
    {
        using var cancel = new CancellationTokenSource(duration);
        using var response = await _http.GetAsync(new Uri(_results.BaseAddress, "api/results/stream"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var text = new System.Text.StringBuilder();
        try
        {
            while (await reader.ReadLineAsync(cancel.Token) is { } line)
            {
                text.AppendLine(line);
            }
        }
        catch (OperationCanceledException)
        {
            // Read for as long as asked.
        }

        return text.ToString();
    }

    private async Task WaitCountedAsync(List<Receipt> receipts) =>
        await Poll.UntilAsync(
            async () =>
            {
                var stored = await _database.ReadVotesAsync(receipts.Select(r => r.Voter));
                return receipts.All(r => stored.TryGetValue(r.Voter, out var row) && row.VoteId == r.Vote);
            },
            Timeout,
            "not every acknowledged vote was counted");

    private async Task<(HttpStatusCode Status, JsonElement Body)> CommandAsync(string command)
    {
        using var response = await _management.PostAsync(new Uri(_worker.ManagementAddress, "api/poll/" + command), content: null);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>A new voter's cookie; none while the poll is not open (the page issues no identity then).</summary>
    private async Task<string?> NewVoterAsync()
    {
        using var page = await _http.GetAsync(_web.BaseAddress);
        return page.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.Single().Split(';')[0] : null;
    }

    private async Task<VoteAnswer> VoteAsync(string option)
    {
        var cookie = await NewVoterAsync();
        using var vote = new HttpRequestMessage(HttpMethod.Post, new Uri(_web.BaseAddress, "api/votes")) { Content = JsonContent.Create(new { option }) };
        if (cookie is not null)
        {
            vote.Headers.Add("Cookie", cookie);
        }

        using var response = await _http.SendAsync(vote);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new VoteAnswer(response.StatusCode, body, body.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : "");
    }

    private async Task<(HttpStatusCode Status, string Body)> VoteFromFormAsync(string option)
    {
        // Outside the window the page issues no identity, and a vote is refused for the window before anything else.
        using var vote = new HttpRequestMessage(HttpMethod.Post, _web.BaseAddress) { Content = new FormUrlEncodedContent([new("vote", option)]) };
        using var response = await _http.SendAsync(vote);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static Receipt Accepted(VoteAnswer answer)
    {
        Assert.True(answer.Status == HttpStatusCode.Accepted, $"{(int)answer.Status}: {answer.Detail}");
        return new Receipt(answer.Body.GetProperty("voterId").GetGuid(), answer.Body.GetProperty("voteId").GetGuid(), answer.Body.GetProperty("acceptedAt").GetDateTimeOffset());
    }

    private static bool Keep(List<Receipt> receipts, VoteAnswer answer)
    {
        receipts.Add(Accepted(answer));
        return true;
    }

    private T Own<T>(T resource)
        where T : IAsyncDisposable => _owned.Own(resource);

    private sealed record VoteAnswer(HttpStatusCode Status, JsonElement Body, string Detail);

    private sealed record Receipt(Guid Voter, Guid Vote, DateTimeOffset AcceptedAt);
}

using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Voting.Clustering.Consul.Testing;

namespace Voting.Clustering.Tests.Consul;

/// <summary>
/// Pins the in-test Consul to Consul's documented behaviour (KV store and transaction HTTP API docs, and the state
/// store they describe), so the provider's tests rest on Consul's semantics and not on this stand-in's.
/// </summary>
[Collection(InTestConsulCollection.Name)]
public sealed class InTestConsulTests(InTestConsulFixture fixture) : IDisposable
{
    private readonly InTestConsul _consul = fixture.Consul;
    private readonly HttpClient _http = new() { BaseAddress = new Uri(fixture.Consul.Address) };
    private readonly string _prefix = $"semantics/{Guid.NewGuid():N}/";

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task AMissingKeyAnswers404WithAnIndexHeader()
    {
        using var response = await _http.GetAsync(Kv("missing"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True(Index(response) >= 1);
    }

    [Fact]
    public async Task ACreatedKeyReadsBackInBase64WithEqualCreateAndModifyIndexes()
    {
        Assert.True(await PutAsync("a", "hello"));

        using var response = await _http.GetAsync(Kv("a"));
        var entry = Assert.Single(await EntriesAsync(response));

        Assert.Equal(_prefix + "a", entry.GetProperty("Key").GetString());
        Assert.Equal(Convert.ToBase64String("hello"u8), entry.GetProperty("Value").GetString());
        Assert.Equal(Modify(entry), entry.GetProperty("CreateIndex").GetUInt64());
        Assert.Equal(Modify(entry), Index(response));
        Assert.Equal(0UL, entry.GetProperty("LockIndex").GetUInt64());
        Assert.Equal(0UL, entry.GetProperty("Flags").GetUInt64());
    }

    [Fact]
    public async Task AnUpdateKeepsTheCreateIndexAndRaisesTheModifyIndex()
    {
        await PutAsync("a", "one");
        var before = await EntryAsync("a");
        await PutAsync("a", "two");
        var after = await EntryAsync("a");

        Assert.Equal(before.GetProperty("CreateIndex").GetUInt64(), after.GetProperty("CreateIndex").GetUInt64());
        Assert.True(Modify(after) > Modify(before));
    }

    [Fact]
    public async Task WritingTheSameValueAgainKeepsTheModifyIndex()
    {
        await PutAsync("a", "same");
        var before = await EntryAsync("a");
        var raftBefore = _consul.Store.RaftIndex;

        Assert.True(await PutAsync("a", "same"));

        Assert.Equal(Modify(before), Modify(await EntryAsync("a")));
        Assert.True(_consul.Store.RaftIndex > raftBefore);
    }

    [Fact]
    public async Task CasZeroCreatesOnlyAKeyThatIsAbsent()
    {
        Assert.True(await PutAsync("a", "first", "?cas=0"));
        Assert.False(await PutAsync("a", "second", "?cas=0"));

        Assert.Equal("first", Value(await EntryAsync("a")));
    }

    [Fact]
    public async Task CasWithAStaleIndexChangesNothingYetTakesARaftIndex()
    {
        await PutAsync("a", "one");
        var stale = Modify(await EntryAsync("a"));
        await PutAsync("a", "two");
        var current = await EntryAsync("a");
        var raftBefore = _consul.Store.RaftIndex;

        Assert.False(await PutAsync("a", "three", $"?cas={stale}"));

        Assert.Equal("two", Value(await EntryAsync("a")));
        Assert.Equal(Modify(current), Modify(await EntryAsync("a")));
        Assert.Equal(raftBefore + 1, _consul.Store.RaftIndex);
        Assert.True(await PutAsync("a", "three", $"?cas={Modify(current)}"));
        Assert.False(await PutAsync("never", "x", $"?cas={Modify(current)}"));
    }

    [Fact]
    public async Task RecurseListsTheKeysUnderThePrefixInKeyOrderWithTheHighestIndex()
    {
        await PutAsync("dir/b", "2");
        await PutAsync("dir/a", "1");
        await PutAsync("dirt", "not under dir/");

        using var response = await _http.GetAsync(Kv("dir/") + "?recurse");
        var entries = await EntriesAsync(response);

        Assert.Equal([_prefix + "dir/a", _prefix + "dir/b"], entries.Select(e => e.GetProperty("Key").GetString()));
        Assert.Equal(entries.Max(Modify), Index(response));
        using var none = await _http.GetAsync(Kv("nothing/") + "?recurse");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task KeysListsKeysCutAfterTheSeparator()
    {
        await PutAsync("k/a", "1");
        await PutAsync("k/sub/b", "2");
        await PutAsync("k/sub/c", "3");

        using var response = await _http.GetAsync(Kv("k/") + "?keys&separator=/");
        var keys = JsonSerializer.Deserialize<string[]>(await response.Content.ReadAsStringAsync())!;

        Assert.Equal([_prefix + "k/a", _prefix + "k/sub/"], keys);
        using var none = await _http.GetAsync(Kv("none/") + "?keys");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task ARecursiveDeleteRemovesOnlyThePrefixAndTheListIndexNeverGoesBack()
    {
        await PutAsync("tree/a", "1");
        await PutAsync("tree/b", "2");
        await PutAsync("treetop", "stays");
        using var before = await _http.GetAsync(Kv("tree/") + "?recurse");

        using var delete = await _http.DeleteAsync(Kv("tree/") + "?recurse");
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);

        using var after = await _http.GetAsync(Kv("tree/") + "?recurse");
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
        Assert.True(Index(after) > Index(before));
        Assert.Equal("stays", Value(await EntryAsync("treetop")));
    }

    [Fact]
    public async Task DeleteWithCasDeletesOnlyAtTheIndexAndNeverAtZero()
    {
        await PutAsync("a", "1");
        var index = Modify(await EntryAsync("a"));

        Assert.False(await DeleteAsync("a", "?cas=0"));
        Assert.False(await DeleteAsync("a", $"?cas={index + 1000}"));
        Assert.True(await DeleteAsync("a", $"?cas={index}"));
        using var gone = await _http.GetAsync(Kv("a"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        // Consul's delete-cas treats an absent key as deleted.
        Assert.True(await DeleteAsync("a", $"?cas={index}"));
    }

    [Fact]
    public async Task ATransactionAppliesNothingWhenAnOperationFailsAndReportsEveryFailure()
    {
        await PutAsync("b", "old");

        var (status, body) = await TxnAsync(
            Op("set", "a", "new"),
            Op("cas", "b", "newer", index: 1),
            Op("check-not-exists", "b"));

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("Results").ValueKind);
        var errors = body.GetProperty("Errors").EnumerateArray().ToList();
        Assert.Equal([1, 2], errors.Select(e => e.GetProperty("OpIndex").GetInt32()));
        Assert.Equal($"failed to set key \"{_prefix}b\", index is stale", errors[0].GetProperty("What").GetString());
        Assert.Equal($"key \"{_prefix}b\" exists", errors[1].GetProperty("What").GetString());
        using var a = await _http.GetAsync(Kv("a"));
        Assert.Equal(HttpStatusCode.NotFound, a.StatusCode);
        Assert.Equal("old", Value(await EntryAsync("b")));
    }

    [Fact]
    public async Task OperationsOfATransactionSeeEarlierOnesAndShareOneIndex()
    {
        var (status, body) = await TxnAsync(
            Op("cas", "x", "1", index: 0),
            Op("cas", "y", "2", index: 0),
            Op("get", "x"),
            Op("check-not-exists", "z"));

        Assert.Equal(HttpStatusCode.OK, status);
        var results = body.GetProperty("Results").EnumerateArray().Select(r => r.GetProperty("KV")).ToList();
        Assert.Equal(3, results.Count);
        Assert.Equal(JsonValueKind.Null, results[0].GetProperty("Value").ValueKind);
        Assert.Equal(Convert.ToBase64String("1"u8), results[2].GetProperty("Value").GetString());
        Assert.Equal(Modify(results[0]), Modify(results[1]));
        Assert.Equal(Modify(results[0]), Modify(await EntryAsync("y")));
    }

    [Fact]
    public async Task TransactionChecksFailWithConsulsMessages()
    {
        await PutAsync("a", "1");
        var index = Modify(await EntryAsync("a"));

        var (status, body) = await TxnAsync(
            Op("check-index", "a", index: index + 1),
            Op("check-index", "missing", index: 1),
            Op("get", "missing"),
            Op("delete-cas", "a", index: index + 1),
            Op("frobnicate", "a"));

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(
            [
                $"failed index check for key \"{_prefix}a\", current modify index {index} != {index + 1}",
                $"failed to check index, key \"{_prefix}missing\" doesn't exist",
                $"key \"{_prefix}missing\" doesn't exist",
                $"failed to delete key \"{_prefix}a\", index is stale",
                "unknown KV verb \"frobnicate\"",
            ],
            body.GetProperty("Errors").EnumerateArray().Select(e => e.GetProperty("What").GetString()));
    }

    [Fact]
    public async Task AReadOnlyTransactionTakesNoRaftIndex()
    {
        await PutAsync("a", "1");
        var raftBefore = _consul.Store.RaftIndex;

        var (status, _) = await TxnAsync(Op("get", "a"), Op("get-tree", ""));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(raftBefore, _consul.Store.RaftIndex);
    }

    [Fact]
    public async Task MalformedTransactionsAreRefusedBeforeTheyRun()
    {
        var tooMany = Enumerable.Range(0, InTestConsul.MaxTxnOperations + 1).Select(i => Op("set", $"n{i}", "v")).ToArray();
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await TxnAsync(tooMany)).Status);

        using var notBase64 = new StringContent($$$"""[{"KV":{"Verb":"set","Key":"{{{_prefix}}}a","Value":"not base64!"}}]""");
        using var response = await _http.PutAsync("/v1/txn", notBase64);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        using var get = await _http.GetAsync("/v1/txn");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        using var none = await _http.GetAsync(Kv("n0"));
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task StaleAndConsistentTogetherAreRefused()
    {
        using var response = await _http.GetAsync(Kv("a") + "?stale&consistent");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task KeysWithCharactersConsulRejectsAreRefused()
    {
        using var colon = new ByteArrayContent("x"u8.ToArray());
        using var response = await _http.PutAsync(Kv("silo:11111@1"), colon);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid character ':'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithAclsAWrongTokenIsUnknownAndNoTokenMayNeitherReadNorWrite()
    {
        await using var consul = await InTestConsul.StartAsync(requiredToken: "right-token");
        using var right = Client(consul, "right-token");
        using var wrong = Client(consul, "wrong-token");
        using var none = Client(consul, null);
        using var content = new StringContent("v");
        using var created = await right.PutAsync("/v1/kv/acl/a", content);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);

        using var unknown = await wrong.GetAsync("/v1/kv/acl/a");
        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        Assert.Equal("ACL not found", await unknown.Content.ReadAsStringAsync());

        using var anonymousGet = await none.GetAsync("/v1/kv/acl/a");
        Assert.Equal(HttpStatusCode.Forbidden, anonymousGet.StatusCode);
        Assert.Equal("Permission denied", await anonymousGet.Content.ReadAsStringAsync());

        using var anonymousList = await none.GetAsync("/v1/kv/acl/?recurse");
        Assert.Equal(HttpStatusCode.NotFound, anonymousList.StatusCode);
        Assert.Equal("true", anonymousList.Headers.GetValues("X-Consul-Results-Filtered-By-ACLs").Single());

        using var txn = new StringContent($$$"""[{"KV":{"Verb":"set","Key":"acl/b","Value":"{{{Convert.ToBase64String("v"u8)}}}"}}]""");
        using var anonymousTxn = await none.PutAsync("/v1/txn", txn);
        Assert.Equal(HttpStatusCode.Conflict, anonymousTxn.StatusCode);
        Assert.Contains("Permission denied", await anonymousTxn.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(["acl/a"], consul.Store.Snapshot().Keys);
        Assert.Equal(["header", "header", "none", "none", "none"], consul.Requests.Select(r => r.TokenSource));
    }

    [Fact]
    public async Task InjectedFailuresAnswerWithoutApplyingAndALostAnswerStillApplies()
    {
        await using var consul = await InTestConsul.StartAsync();
        using var http = Client(consul, null);

        consul.FailNext(1);
        using (var content = new StringContent("v"))
        {
            using var failed = await http.PutAsync("/v1/kv/faults/a", content);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        Assert.Empty(consul.Store.Snapshot());

        consul.LoseAnswerToNextWrite();
        using (var content = new StringContent("v"))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => http.PutAsync("/v1/kv/faults/a", content));
        }

        Assert.Equal(["faults/a"], consul.Store.Snapshot().Keys);

        await consul.StopAsync();
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("/v1/kv/faults/a"));
        Assert.Equal(HttpRequestError.ConnectionError, refused.HttpRequestError);
        await consul.RestartAsync();
        using var back = await http.GetAsync("/v1/kv/faults/a");
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }

    private string Kv(string key) => "/v1/kv/" + _prefix + key;

    private async Task<bool> PutAsync(string key, string value, string query = "")
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(value));
        using var response = await _http.PutAsync(Kv(key) + query, content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonSerializer.Deserialize<bool>(await response.Content.ReadAsStringAsync());
    }

    private async Task<bool> DeleteAsync(string key, string query)
    {
        using var response = await _http.DeleteAsync(Kv(key) + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonSerializer.Deserialize<bool>(await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> EntryAsync(string key)
    {
        using var response = await _http.GetAsync(Kv(key));
        return Assert.Single(await EntriesAsync(response));
    }

    private static async Task<JsonElement[]> EntriesAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> TxnAsync(params object[] operations)
    {
        using var content = new StringContent(JsonSerializer.Serialize(operations), Encoding.UTF8, "application/json");
        using var response = await _http.PutAsync("/v1/txn", content);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Conflict))
        {
            return (response.StatusCode, default);
        }

        using var document = JsonDocument.Parse(text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    private object Op(string verb, string key, string? value = null, ulong index = 0) => new
    {
        KV = new { Verb = verb, Key = _prefix + key, Value = value is null ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes(value)), Index = index },
    };

    private static HttpClient Client(InTestConsul consul, string? token)
    {
        var http = new HttpClient { BaseAddress = new Uri(consul.Address) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Add("X-Consul-Token", token);
        }

        return http;
    }

    private static ulong Index(HttpResponseMessage response) =>
        ulong.Parse(response.Headers.GetValues("X-Consul-Index").Single(), CultureInfo.InvariantCulture);

    private static ulong Modify(JsonElement entry) => entry.GetProperty("ModifyIndex").GetUInt64();

    private static string Value(JsonElement entry) => Encoding.UTF8.GetString(Convert.FromBase64String(entry.GetProperty("Value").GetString()!));
}

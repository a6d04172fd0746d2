using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Voting.Local.Applications;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The voter cookie across a rotation of its signing key, and the forensic data each vote carries to PostgreSQL, on
/// real front ends drained by the system's worker silo.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class VoterCookieTests(VotingSystemFixture system)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static string KeyIdOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Convert.FromBase64String(key)))[..8];

    [Fact]
    public async Task AReturningVoterKeepsTheirIdThroughAKeyRotationAndACookieWhoseKeyIsDroppedIsRefused()
    {
        var (keyA, keyB, keyC) = (NewKey(), NewKey(), NewKey());
        await using var redis = await TestServers.StartRedisAsync();
        using var client = new CookieClient();

        // Before: key A signs. A voter gets a cookie and votes; another only opens the page.
        string voterCookie, visitorCookie;
        Guid voterId;
        DateTime issuedAt;
        await using (var web = await StartAsync(redis.Endpoint, new() { ["VoterCookie__SigningKey"] = keyA }))
        {
            voterCookie = await client.OpenAsync(web.BaseAddress);
            visitorCookie = await client.OpenAsync(web.BaseAddress);
            Assert.Equal(KeyIdOf(keyA), voterCookie[33..41]);
            var (status, receipt, afterVote) = await client.VoteAsync(web.BaseAddress, voterCookie, "a");
            Assert.Equal(HttpStatusCode.Accepted, status);
            voterId = receipt!.Value.GetProperty("voterId").GetGuid();
            voterCookie = afterVote!;
            issuedAt = (await WaitForRowAsync(voterId, receipt.Value.GetProperty("voteId").GetGuid())).IdentityIssuedAt!.Value;
        }

        // Rotated: key B signs, key A still verifies. The returning voter's vote is under the same voter id, and the
        // answer's cookie is signed with B, keeping the identity's issue time.
        string rotatedCookie;
        await using (var web = await StartAsync(redis.Endpoint, new() { ["VoterCookie__SigningKey"] = keyB, ["VoterCookie__VerifyingKeys__0"] = keyA }))
        {
            var (status, receipt, afterVote) = await client.VoteAsync(web.BaseAddress, voterCookie, "b");
            Assert.Equal(HttpStatusCode.Accepted, status);
            Assert.Equal(voterId, receipt!.Value.GetProperty("voterId").GetGuid());
            Assert.StartsWith(voterId.ToString("N") + "." + KeyIdOf(keyB) + ".", afterVote, StringComparison.Ordinal);
            rotatedCookie = afterVote!;
            var row = await WaitForRowAsync(voterId, receipt.Value.GetProperty("voteId").GetGuid());
            Assert.Equal(issuedAt, row.IdentityIssuedAt);
            Assert.Equal("b", (await system.Database.ReadVotesAsync([voterId]))[voterId].Option);

            // The visitor who only opened the page gets their cookie signed again with B on the next page view.
            var renewed = await client.OpenAsync(web.BaseAddress, visitorCookie);
            Assert.StartsWith(visitorCookie[..32] + "." + KeyIdOf(keyB) + ".", renewed, StringComparison.Ordinal);
        }

        // Key A dropped: a cookie A signed is refused; the one B signed still counts.
        await using (var web = await StartAsync(redis.Endpoint, new() { ["VoterCookie__SigningKey"] = keyC, ["VoterCookie__VerifyingKeys__0"] = keyB }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await client.VoteAsync(web.BaseAddress, voterCookie, "a")).Status);
            var (status, receipt, _) = await client.VoteAsync(web.BaseAddress, rotatedCookie, "a");
            Assert.Equal(HttpStatusCode.Accepted, status);
            Assert.Equal(voterId, receipt!.Value.GetProperty("voterId").GetGuid());
            await WaitForRowAsync(voterId, receipt.Value.GetProperty("voteId").GetGuid());
        }
    }

    [Fact]
    public async Task EachVoteReachesPostgresWithItsAddressAndUserAgentHashesAndTheIdentitysIssueTime()
    {
        var frontend = system.Frontends[0].App.BaseAddress;
        using var here = new CookieClient(IPAddress.Parse("198.51.100.7"), userAgent: "forensics-test/1.0");
        using var sameAddressOtherAgent = new CookieClient(IPAddress.Parse("198.51.100.7"), userAgent: "forensics-test/2.0");
        using var otherAddress = new CookieClient(IPAddress.Parse("198.51.100.8"), userAgent: "forensics-test/1.0");

        var before = DateTime.UtcNow.AddSeconds(-1);
        var votes = new List<(Guid Voter, Guid Vote)>();
        foreach (var client in new[] { here, here, sameAddressOtherAgent, otherAddress })
        {
            var cookie = await client.OpenAsync(frontend);
            var (status, receipt, _) = await client.VoteAsync(frontend, cookie, "a");
            Assert.Equal(HttpStatusCode.Accepted, status);
            votes.Add((receipt!.Value.GetProperty("voterId").GetGuid(), receipt.Value.GetProperty("voteId").GetGuid()));
        }

        var after = DateTime.UtcNow.AddSeconds(1);
        var rows = new List<StoredForensics>();
        foreach (var (voter, vote) in votes)
        {
            rows.Add(await WaitForRowAsync(voter, vote));
        }

        Assert.All(rows, row => Assert.NotNull(row.AddressHash));
        Assert.All(rows, row => Assert.InRange(row.IdentityIssuedAt!.Value, before, after));
        // Two voters from one address, on one day: one address hash; another address: another hash.
        Assert.Equal(rows[0].AddressHash, rows[1].AddressHash);
        Assert.Equal(rows[0].AddressHash, rows[2].AddressHash);
        Assert.NotEqual(rows[0].AddressHash, rows[3].AddressHash);
        // The User-Agent hash follows the header, whatever the address.
        Assert.Equal(rows[0].UserAgentHash, rows[1].UserAgentHash);
        Assert.Equal(rows[0].UserAgentHash, rows[3].UserAgentHash);
        Assert.NotEqual(rows[0].UserAgentHash, rows[2].UserAgentHash);
    }

    [Fact]
    public async Task TheIdentitysIssueTimeIsKeptAcrossVotes()
    {
        var frontends = system.Frontends.Select(f => f.App.BaseAddress).ToArray();
        using var client = new CookieClient();
        var cookie = await client.OpenAsync(frontends[0]);
        var (_, first, afterFirst) = await client.VoteAsync(frontends[0], cookie, "a");
        var voter = first!.Value.GetProperty("voterId").GetGuid();
        var issued = (await WaitForRowAsync(voter, first.Value.GetProperty("voteId").GetGuid())).IdentityIssuedAt;

        // Seconds later, a change of mind on the other front end: the issue time is the page's, not the vote's.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var (status, second, _) = await client.VoteAsync(frontends[1], afterFirst!, "b");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(issued, (await WaitForRowAsync(voter, second!.Value.GetProperty("voteId").GetGuid())).IdentityIssuedAt);
    }

    [Fact]
    public async Task AFrontEndWithAnUnusableOrDuplicateVerifyingKeyFailsNamingIt()
    {
        await AssertFailsNamingAsync(system.Apps.StartWeb("bad-verifying", "127.0.0.1:1", new Dictionary<string, string?>
        {
            ["VoterCookie__VerifyingKeys__0"] = Convert.ToBase64String(new byte[16]),
            ["VoterCookie__VerifyingKeys__1"] = TestApps.SigningKey,
            ["Forensics__Secret"] = "not base64!",
        }), "VoterCookie:VerifyingKeys:0", "VoterCookie__VerifyingKeys__1", "VoterCookie:SigningKey", "Forensics:Secret");
    }

    private static async Task AssertFailsNamingAsync(AppProcess app, params string[] settings)
    {
        await using (app)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await app.Process.Exited.WaitAsync(timeout.Token);
            await Poll.UntilAsync(() => Task.FromResult(settings.All(s => app.Process.Tail(200).Contains(s, StringComparison.Ordinal))),
                TimeSpan.FromSeconds(5), () => Task.FromResult("the output does not name " + string.Join(", ", settings) + ":\n" + app.Process.Tail()));
        }
    }

    /// <summary>A front end named <c>rotation01</c> on its own Redis, with these voter-cookie settings.</summary>
    private async Task<AppProcess> StartAsync(string redis, Dictionary<string, string?> settings)
    {
        var web = system.Apps.StartWeb("rotation01", redis, settings);
        await web.WaitReadyAsync(StartTimeout);
        return web;
    }

    /// <summary>Waits until the voter's row holds the vote, and returns its forensic columns.</summary>
    private async Task<StoredForensics> WaitForRowAsync(Guid voter, Guid vote)
    {
        await Poll.UntilAsync(
            async () => (await system.Database.ReadVotesAsync([voter])).TryGetValue(voter, out var row) && row.VoteId == vote,
            DrainTimeout, $"voter {voter}'s vote {vote} was not drained to PostgreSQL");
        return (await system.Database.ReadForensicsAsync([voter]))[voter];
    }

    /// <summary>
    /// A client that sends the voter cookie it is given (no cookie jar: each call says which), from a chosen client
    /// address (forwarded) and with a chosen User-Agent.
    /// </summary>
    private sealed class CookieClient : IDisposable
    {
        private readonly HttpClient _http;

        public CookieClient(IPAddress? from = null, string userAgent = "voter-cookie-tests")
        {
            var handler = new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false };
            _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15) };
            if (from is not null)
            {
                // As a trusted proxy hop would say it (the tests connect from loopback, which the front end trusts).
                _http.DefaultRequestHeaders.Add("X-Forwarded-For", from.ToString());
            }

            _http.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        }

        /// <summary>Opens the vote page (with <paramref name="cookie"/>, if any) and returns the cookie it sets.</summary>
        public async Task<string> OpenAsync(Uri frontend, string? cookie = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, frontend);
            if (cookie is not null)
            {
                request.Headers.Add("Cookie", "voter_id=" + cookie);
            }

            using var response = await _http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            return VoterCookie(response) ?? throw new InvalidOperationException("The vote page set no voter cookie.");
        }

        /// <summary>Votes through the JSON API with <paramref name="cookie"/>: the status, the receipt (on 202) and the cookie the answer sets.</summary>
        public async Task<(HttpStatusCode Status, JsonElement? Receipt, string? Cookie)> VoteAsync(Uri frontend, string cookie, string option)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(frontend, "api/votes")) { Content = JsonContent.Create(new { option }) };
            request.Headers.Add("Cookie", "voter_id=" + cookie);
            using var response = await _http.SendAsync(request);
            JsonElement? receipt = response.StatusCode == HttpStatusCode.Accepted ? await Browser.JsonAsync(response) : null;
            return (response.StatusCode, receipt, VoterCookie(response));
        }

        public void Dispose() => _http.Dispose();

        private static string? VoterCookie(HttpResponseMessage response) =>
            response.Headers.TryGetValues("Set-Cookie", out var values)
                ? values.Where(v => v.StartsWith("voter_id=", StringComparison.Ordinal)).Select(v => v["voter_id=".Length..v.IndexOf(';', StringComparison.Ordinal)]).LastOrDefault()
                : null;
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Voting.LoadGen;
using Voting.Local;
using Voting.Local.Applications;
using Voting.Local.Tls;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// TLS at the edge: the balancer serves HTTPS with a certificate from its settings and redirects plain HTTP with a
/// 308 (health probes excepted), sends HSTS over HTTPS only, and tells the front ends the scheme; a front end that
/// requires HTTPS issues the <c>__Host-</c> Secure voter cookie, refuses plain HTTP with a reason, and believes
/// <c>X-Forwarded-Proto</c> only from a trusted hop. Each test starts the processes it needs next to the shared system.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class EdgeTlsTests(VotingSystemFixture system) : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A name the certificate serves that is not loopback, which ASP.NET Core leaves out of HSTS.</summary>
    private const string PublicName = "vote.test";

    private readonly OwnedResources _owned = new();
    private EdgeCertificate _certificate = null!;

    public Task InitializeAsync()
    {
        _certificate = EdgeCertificate.Create(TestDirectories.Create("edge-tls"), [.. EdgeCertificate.Loopback, PublicName], TimeSpan.FromDays(1));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _owned.DisposeAsync();

    /// <summary>A front end (with its own Redis) that requires HTTPS, and a balancer with TLS in front of it.</summary>
    private async Task<(AppProcess Web, AppProcess Balancer, Uri Https)> StartEdgeAsync(string name)
    {
        var redis = _owned.Own(await TestServers.StartRedisAsync());
        var web = _owned.Own(system.Apps.StartWeb(name, redis.Endpoint, new Dictionary<string, string?> { ["Edge__RequireHttps"] = "true" }));
        var https = new Uri($"https://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}/");
        var settings = new Dictionary<string, string?>(_certificate.EdgeSettings(https.ToString().TrimEnd('/')))
        {
            ["Balancer__Frontends__" + name] = web.BaseAddress.ToString(),
        };
        var balancer = _owned.Own(system.Apps.StartBalancer(name + "-balancer", settings));
        await Task.WhenAll(web.WaitReadyAsync(StartTimeout), balancer.WaitReadyAsync(StartTimeout));
        return (web, balancer, https);
    }

    /// <summary>
    /// Sends the request, again after <c>Retry-After</c> while the answer is a 503 that carries one (a front end of the
    /// shared system shedding load while other tests run: the system's documented "busy, try again"), at most ten times.
    /// Any other answer is returned at once.
    /// </summary>
    private static async Task<HttpResponseMessage> SendPatientlyAsync(HttpClient http, Func<HttpRequestMessage> request)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var message = request();
            var response = await http.SendAsync(message);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || response.Headers.RetryAfter is not { } retryAfter || attempt == 10)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(retryAfter.Delta?.TotalSeconds ?? 1, 0.2, 2)));
        }
    }

    /// <summary>A browser that trusts the test certificate alone (the host name is still checked).</summary>
    private HttpClient Browser(CookieContainer? cookies = null)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = cookies is not null, CookieContainer = cookies ?? new CookieContainer() };
        handler.SslOptions.CertificateChainPolicy = _certificate.TrustPolicy();
        var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.Add("X-Forwarded-For", ClientAddresses.Next());
        return http;
    }

    private static string VoterSetCookie(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.FirstOrDefault(v => v.StartsWith(name + "=", StringComparison.Ordinal)) ?? "" : "";

    [Fact]
    public async Task AVoteOverHttpsGetsTheSecureHostPrefixedCookieAndIsCounted()
    {
        var (_, _, https) = await StartEdgeAsync("tls-vote");
        var cookies = new CookieContainer();
        using var browser = Browser(cookies);

        using var page = await SendPatientlyAsync(browser, () => new HttpRequestMessage(HttpMethod.Get, https));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var setCookie = VoterSetCookie(page, "__Host-voter_id");
        Assert.Contains("secure", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain=", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(VoterSetCookie(page, "voter_id"));

        using var vote = await SendPatientlyAsync(browser, () => new HttpRequestMessage(HttpMethod.Post, new Uri(https, "api/votes")) { Content = JsonContent.Create(new { option = "b" }) });
        Assert.Equal(HttpStatusCode.Accepted, vote.StatusCode);
        var voterId = (await vote.Content.ReadFromJsonAsync<Receipt>())!.VoterId;
        Assert.Equal(cookies.GetCookies(https)["__Host-voter_id"]!.Value[..32], voterId.ToString("N"));
        await Poll.UntilAsync(async () => (await system.Database.ReadVotesAsync([voterId])).TryGetValue(voterId, out var row) && row.Option == "b",
            DrainTimeout, "the vote over HTTPS was not counted");
    }

    [Fact]
    public async Task TheLoadToolVotesOverHttpsTrustingTheCertificateItIsGivenAndNoOther()
    {
        var (_, _, https) = await StartEdgeAsync("tls-load");
        var options = new LoadOptions
        {
            Frontends = [https],
            Results = null,
            Postgres = system.ConnectionString,
            Voters = 100,
            Concurrency = 8,
            Duration = TimeSpan.FromSeconds(60),
            Seed = 20261202,
            RequestTimeout = TimeSpan.FromSeconds(20),
            TrustedCertificates = [_certificate.Load()],
        };
        var output = new StringWriter();
        var report = await LoadRun.RunAsync(options, output, CancellationToken.None);
        Assert.True(report.Passed, output.ToString());
        // Every vote had an answer over HTTPS (none failed on the connection); the shared system, which other tests
        // load meanwhile, may shed some with 503 and Retry-After (a CI run shed 13 of 111), but most are taken.
        Assert.Equal(0, report.Load.Errors);
        Assert.All(report.Load.RefusedByStatus.Keys, status => Assert.Equal(503, status));
        Assert.True(report.Audit!.Acknowledged >= 50, output.ToString());

        // Without it the self-signed certificate is not trusted: the run cannot even read the ballot.
        var untrusted = await Assert.ThrowsAsync<LoadRunException>(() =>
            LoadRun.RunAsync(options with { TrustedCertificates = [], Postgres = null }, TextWriter.Null, CancellationToken.None));
        Assert.Contains("SSL", untrusted.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlainHttpIsRedirectedWith308ToHttpsExceptTheHealthProbesAndOnlyHttpsCarriesHsts()
    {
        var (_, balancer, https) = await StartEdgeAsync("tls-redirect");
        using var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

        // A POSTed vote is redirected with 308, which keeps it a POST, to the same path over HTTPS.
        using var post = await plain.PostAsJsonAsync(new Uri(balancer.BaseAddress, "api/votes"), new { option = "a" });
        Assert.Equal(HttpStatusCode.PermanentRedirect, post.StatusCode);
        Assert.Equal(new Uri(https, "api/votes"), post.Headers.Location);
        Assert.False(post.Headers.Contains("Strict-Transport-Security"));

        using var ready = await plain.GetAsync(new Uri(balancer.BaseAddress, "health/ready"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.False(ready.Headers.Contains("Strict-Transport-Security"));

        using var browser = Browser();
        using var page = await SendPatientlyAsync(browser, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, https);
            request.Headers.Host = PublicName + ":" + https.Port.ToString(CultureInfo.InvariantCulture);
            return request;
        });
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var hsts = Assert.Single(page.Headers.GetValues("Strict-Transport-Security"));
        Assert.StartsWith("max-age=15552000", hsts, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReturningVoterWhoseCookieHasThePlainNameKeepsTheirIdentityOverHttps()
    {
        var (_, _, https) = await StartEdgeAsync("tls-rename");
        // A voter from before TLS: the cookie a plain-HTTP front end issued.
        using var plain = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        plain.DefaultRequestHeaders.Add("X-Forwarded-For", ClientAddresses.Next());
        using var before = await plain.GetAsync(system.Frontends[0].App.BaseAddress);
        var old = VoterSetCookie(before, "voter_id").Split(';')[0];
        Assert.NotEmpty(old);

        using var browser = Browser();
        using var page = await SendPatientlyAsync(browser, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, https);
            request.Headers.Add("Cookie", old);
            return request;
        });
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var renamed = VoterSetCookie(page, "__Host-voter_id");
        Assert.StartsWith("__Host-voter_id=" + old["voter_id=".Length..][..32], renamed, StringComparison.Ordinal);
        Assert.Contains("secure", renamed, StringComparison.OrdinalIgnoreCase);
        // The old cookie is removed, so that the browser keeps one.
        Assert.Contains("expires=Thu, 01 Jan 1970", VoterSetCookie(page, "voter_id"), StringComparison.OrdinalIgnoreCase);

        using var receipt = await SendPatientlyAsync(browser, () =>
        {
            var vote = new HttpRequestMessage(HttpMethod.Post, new Uri(https, "api/votes")) { Content = JsonContent.Create(new { option = "a" }) };
            vote.Headers.Add("Cookie", old);
            return vote;
        });
        Assert.Equal(HttpStatusCode.Accepted, receipt.StatusCode);
        Assert.Equal(old["voter_id=".Length..][..32], (await receipt.Content.ReadFromJsonAsync<Receipt>())!.VoterId.ToString("N"));
    }

    [Fact]
    public async Task AFrontEndThatRequiresHttpsRefusesPlainHttpWithAReasonButAnswersProbesAndTheManagementPort()
    {
        var redis = _owned.Own(await TestServers.StartRedisAsync());
        var web = _owned.Own(system.Apps.StartWeb("tls-only", redis.Endpoint, new Dictionary<string, string?> { ["Edge__RequireHttps"] = "true" }));
        await web.WaitReadyAsync(StartTimeout);
        using var plain = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false });

        using var page = await plain.GetAsync(web.BaseAddress);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains("HTTPS only", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(page.Headers.Contains("Set-Cookie"));
        using var vote = await plain.PostAsJsonAsync(new Uri(web.BaseAddress, "api/votes"), new { option = "a" });
        Assert.Equal(HttpStatusCode.BadRequest, vote.StatusCode);
        Assert.Contains("HTTPS only", await vote.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await plain.GetAsync(new Uri(web.BaseAddress, "health/ready"))).StatusCode);
        // The management port is plain HTTP on the operators' side: its sign-in cookie is not forced Secure.
        using var signIn = await plain.PostAsync(new Uri(web.ManagementAddress, "management/sign-in"),
            new FormUrlEncodedContent([new("token", TestApps.ManagementToken)]));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.DoesNotContain("secure", Assert.Single(signIn.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ASpoofedForwardedProtoFromAnUntrustedHopDoesNotMakeTheRequestHttps()
    {
        var redis = _owned.Own(await TestServers.StartRedisAsync());
        var otherRedis = _owned.Own(await TestServers.StartRedisAsync());
        var untrusting = _owned.Own(system.Apps.StartWeb("tls-untrusting", redis.Endpoint, new Dictionary<string, string?>
        {
            ["Edge__RequireHttps"] = "true",
            ["Edge__TrustedProxies__0"] = "10.9.9.0/24",
        }));
        var trusting = _owned.Own(system.Apps.StartWeb("tls-trusting", otherRedis.Endpoint, new Dictionary<string, string?> { ["Edge__RequireHttps"] = "true" }));
        await Task.WhenAll(untrusting.WaitReadyAsync(StartTimeout), trusting.WaitReadyAsync(StartTimeout));

        async Task<HttpResponseMessage> OpenAsync(AppProcess web)
        {
            using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false });
            using var request = new HttpRequestMessage(HttpMethod.Get, web.BaseAddress);
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-For", ClientAddresses.Next());
            return await http.SendAsync(request);
        }

        // From 127.0.0.1, which this front end does not trust, the header changes nothing: still plain HTTP.
        using var spoofed = await OpenAsync(untrusting);
        Assert.Equal(HttpStatusCode.BadRequest, spoofed.StatusCode);
        Assert.Empty(VoterSetCookie(spoofed, "__Host-voter_id"));
        // From a trusted hop (loopback, by default) the same header is believed: the scheme is taken, not only the address.
        using var trusted = await OpenAsync(trusting);
        Assert.Equal(HttpStatusCode.OK, trusted.StatusCode);
        Assert.Contains("secure", VoterSetCookie(trusted, "__Host-voter_id"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ABalancerWhoseCertificateIsMissingMismatchedOrExpiredFailsNamingTheSetting()
    {
        var https = $"https://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}";
        var other = EdgeCertificate.Create(TestDirectories.Create("edge-other"), EdgeCertificate.Loopback, TimeSpan.FromDays(1));
        var expired = WriteExpired(TestDirectories.Create("edge-expired"));
        var failures = new (Dictionary<string, string?> Settings, string Expected)[]
        {
            (new() { ["Edge__Tls__Urls"] = https, ["Edge__Tls__CertificatePath"] = "/nonexistent/edge.crt", ["Edge__Tls__KeyPath"] = _certificate.KeyPath }, "does not exist"),
            (new() { ["Edge__Tls__Urls"] = https, ["Edge__Tls__CertificatePath"] = _certificate.CertificatePath, ["Edge__Tls__KeyPath"] = other.KeyPath }, "the key is not the certificate's"),
            (new() { ["Edge__Tls__Urls"] = https, ["Edge__Tls__CertificatePath"] = expired.CertificatePath, ["Edge__Tls__KeyPath"] = expired.KeyPath }, "expired"),
            (new() { ["Edge__Tls__Urls"] = https }, "Edge__Tls__KeyPath"),
        };
        await Task.WhenAll(failures.Select(async (failure, i) =>
        {
            await using var balancer = system.Apps.StartBalancer("bad-tls-" + i.ToString(CultureInfo.InvariantCulture), failure.Settings);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await balancer.Process.Exited.WaitAsync(timeout.Token);
            await Poll.UntilAsync(
                () => Task.FromResult(balancer.Process.Tail(200).Contains("Edge:Tls:", StringComparison.Ordinal) && balancer.Process.Tail(200).Contains(failure.Expected, StringComparison.Ordinal)),
                TimeSpan.FromSeconds(5), () => Task.FromResult($"the output does not say '{failure.Expected}':\n{balancer.Process.Tail()}"));
        }));
    }

    [Fact]
    public async Task ABodyLargerThanAVoteNeedsIsRefusedByTheBalancerWith413AndAReason()
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        var body = "{\"option\":\"a\",\"padding\":\"" + new string('x', 8 * 1024) + "\"}";
        foreach (var chunked in new[] { false, true })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(system.Balancer.BaseAddress, "api/votes"))
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.TransferEncodingChunked = chunked;
            // The body only once the balancer asks for it: answered before it reads a byte, a body still arriving would
            // meet a closed connection, and the reset can overtake the 413 on its way back.
            request.Headers.ExpectContinue = true;
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains("larger than", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AConnectionThatSendsItsHeadersTooSlowlyIsClosed()
    {
        var balancer = _owned.Own(system.Apps.StartBalancer("slowloris-balancer", new Dictionary<string, string?>
        {
            ["Edge__Limits__RequestHeadersTimeout"] = "00:00:01",
        }));
        await balancer.WaitReadyAsync(StartTimeout);

        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, balancer.HttpPort);
        var stream = client.GetStream();
        // Half a request's head, and then nothing: Kestrel's default would hold the connection for 30 s.
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var answer = new MemoryStream();
        var buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, patience.Token)) > 0)
            {
                answer.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // Reset rather than closed: closed all the same.
        }

        var text = Encoding.ASCII.GetString(answer.ToArray());
        Assert.True(text.Length == 0 || text.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), text);
    }

    /// <summary>A certificate and key whose validity ended yesterday.</summary>
    private static EdgeCertificate WriteExpired(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(-1));
        var expired = new EdgeCertificate(Path.Combine(directory, "expired.crt"), Path.Combine(directory, "expired.key"));
        File.WriteAllText(expired.CertificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(expired.KeyPath, key.ExportPkcs8PrivateKeyPem());
        return expired;
    }

    private sealed record Receipt(Guid VoteId, Guid VoterId, string Option);
}

using System.Globalization;
using System.Net;
using Voting.Local;
using Voting.Local.Tls;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The results app is a public edge of its own (the public reaches the live page, the JSON API, the sealed count and
/// the receipt page directly, not through the balancer): with <c>Edge:Tls</c> it serves HTTPS with the certificate it
/// is given, redirects plain HTTP with a 308 except the health probes and the management port, sends HSTS over HTTPS
/// only, and holds Kestrel to the edge's limits (<c>Edge:Limits</c>). Each test starts a results app of its own next
/// to the shared system.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class ResultsTlsTests(VotingSystemFixture system) : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>A name the certificate serves that is not loopback, which ASP.NET Core leaves out of HSTS.</summary>
    private const string PublicName = "results.test";

    private readonly OwnedResources _owned = new();
    private EdgeCertificate _certificate = null!;

    public Task InitializeAsync()
    {
        _certificate = EdgeCertificate.Create(TestDirectories.Create("results-tls"), [.. EdgeCertificate.Loopback, PublicName], TimeSpan.FromDays(1));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _owned.DisposeAsync();

    /// <summary>A client that trusts the test certificate alone (the host name is still checked) and follows no redirect.</summary>
    private HttpClient Browser()
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false };
        handler.SslOptions.CertificateChainPolicy = _certificate.TrustPolicy();
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15) };
    }

    [Fact]
    public async Task TheResultsAppServesHttpsAndRedirectsPlainHttpExceptTheProbesAndTheManagementPort()
    {
        var https = new Uri($"https://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}/");
        var results = _owned.Own(system.Apps.StartResults("results-tls", _certificate.EdgeSettings(https.ToString().TrimEnd('/'))));
        await results.WaitReadyAsync(StartTimeout);

        // Over HTTPS, trusting the given certificate: the JSON API and the receipt page.
        using var browser = Browser();
        using (var api = await browser.GetAsync(new Uri(https, "api/results")))
        {
            Assert.Equal(HttpStatusCode.OK, api.StatusCode);
            Assert.Contains("\"total\"", await api.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var receipt = await browser.GetAsync(new Uri(https, "receipt")))
        {
            Assert.Equal(HttpStatusCode.OK, receipt.StatusCode);
        }

        // Under a public name HTTPS answers carry HSTS (ASP.NET Core leaves loopback names out).
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri(https, "api/results")))
        {
            request.Headers.Host = PublicName + ":" + https.Port.ToString(CultureInfo.InvariantCulture);
            using var page = await browser.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.StartsWith("max-age=15552000", Assert.Single(page.Headers.GetValues("Strict-Transport-Security")), StringComparison.Ordinal);
        }

        // Plain HTTP is redirected to the same path over HTTPS, without HSTS; the probes answer there.
        using var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(15) };
        using (var redirected = await plain.GetAsync(new Uri(results.BaseAddress, "api/receipts/0193a7f2-1c2e-7abc-8def-0123456789ab?code=ABCD-EFGH-JKMN")))
        {
            Assert.Equal(HttpStatusCode.PermanentRedirect, redirected.StatusCode);
            Assert.Equal(new Uri(https, "api/receipts/0193a7f2-1c2e-7abc-8def-0123456789ab?code=ABCD-EFGH-JKMN"), redirected.Headers.Location);
            Assert.False(redirected.Headers.Contains("Strict-Transport-Security"));
        }

        using (var ready = await plain.GetAsync(new Uri(results.BaseAddress, "health/ready")))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        // The management port stays plain HTTP on the operators' side: not redirected.
        using var operators = TestApps.ManagementClient();
        using (var metrics = await operators.GetAsync(new Uri(results.ManagementAddress, "metrics")))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }

        // A client that does not trust the certificate cannot read anything over HTTPS.
        using var untrusting = new HttpClient(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(15) };
        await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync(new Uri(https, "api/results")));
    }

    [Fact]
    public async Task AResultsAppWithIncompleteTlsOrABadEdgeLimitFailsAtStartUpNamingTheSetting()
    {
        var https = $"https://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}";
        var failures = new (Dictionary<string, string?> Settings, string[] Expected)[]
        {
            (new() { ["Edge__Tls__Urls"] = https, ["Edge__Tls__CertificatePath"] = _certificate.CertificatePath }, ["Edge:Tls:KeyPath", "Edge__Tls__KeyPath"]),
            (new() { ["Edge__Tls__Urls"] = "http://127.0.0.1:1", ["Edge__Tls__CertificatePath"] = _certificate.CertificatePath, ["Edge__Tls__KeyPath"] = _certificate.KeyPath },
                ["Edge:Tls:Urls", "must be https://"]),
            (new() { ["Edge__Limits__MaxConcurrentConnections"] = "0" }, ["Edge:Limits:MaxConcurrentConnections", "at least 1"]),
        };
        await Task.WhenAll(failures.Select(async (failure, i) =>
        {
            await using var results = system.Apps.StartResults("results-bad-edge-" + i.ToString(CultureInfo.InvariantCulture), failure.Settings);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await results.Process.Exited.WaitAsync(timeout.Token);
            Assert.Equal(1, results.Process.ExitCode);
            await Poll.UntilAsync(
                () => Task.FromResult(failure.Expected.All(e => results.Process.Tail(200).Contains(e, StringComparison.Ordinal))),
                TimeSpan.FromSeconds(5), () => Task.FromResult($"the output does not say {string.Join(", ", failure.Expected)}:\n{results.Process.Tail()}"));
        }));
    }
}

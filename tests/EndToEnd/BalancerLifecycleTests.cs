using System.Net;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// A front end's life as the balancer sees it, with no configuration anywhere but the front end's own: it registers and
/// is routed to, it dies and is taken out of the rotation, it is retired and is forgotten.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class BalancerLifecycleTests(ChaosFixture system) : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly HttpClient _http = TestApps.ManagementClient();

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task AFrontEndThatJoinsIsRoutedToUntilItDiesAndIsForgottenOnceRetired()
    {
        await using var redis = await TestServers.StartRedisAsync();
        await using var joining = system.Apps.StartWeb("frontend03", redis.Endpoint);
        await joining.WaitReadyAsync(StartTimeout);

        await system.WaitUntilBalancedAsync("frontend03", routed: true);
        await Poll.UntilAsync(
            async () =>
            {
                using var browser = new Browser();
                var page = await (await browser.OpenAsync(system.Balancer.BaseAddress)).Content.ReadAsStringAsync();
                return Browser.ProcessedBy(page) == "frontend03";
            },
            StartTimeout,
            "no page came from frontend03 through the balancer");

        joining.Process.KillNow();
        await system.WaitUntilBalancedAsync("frontend03", routed: false);

        // Gone for good: retired on the worker tier (forced, as it registered less than a minute ago).
        using var retired = await _http.DeleteAsync(new Uri(system.Workers[0].ManagementAddress, "api/frontends/frontend03?force=true"));
        Assert.Equal(HttpStatusCode.OK, retired.StatusCode);
        await Poll.UntilAsync(
            async () => !(await _http.GetStringAsync(new Uri(system.Balancer.ManagementAddress, "balancer/frontends"))).Contains("\"frontend03\"", StringComparison.Ordinal),
            StartTimeout,
            "the balancer still lists the retired frontend03");
    }
}

using System.Net;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>A front end the cluster's registry refuses is not ready, so no balancer or orchestrator sends it votes.</summary>
[Collection(VotingSystemCollection.Name)]
public sealed class RegistrationTests(VotingSystemFixture system)
{
    [Fact]
    public async Task AFrontEndThatClaimsAnotherFrontEndsStreamIsRefusedAndAnswersNotReady()
    {
        // Another id on frontend01's Redis and stream: its votes would be mixed into a stream it has no drainer of.
        await using var impostor = system.Apps.StartWeb("frontend-impostor", system.Frontends[0].Redis.Endpoint);
        // Why it is not ready is a check's detail: on the management port, with the token.
        using var http = TestApps.ManagementClient(TimeSpan.FromSeconds(5));
        http.BaseAddress = impostor.ManagementAddress;
        string body = "";
        await Poll.UntilAsync(async () =>
        {
            try
            {
                using var response = await http.GetAsync("/health/ready");
                body = await response.Content.ReadAsStringAsync();
                return response.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains("refused", StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                // Still starting.
                return false;
            }
        }, TimeSpan.FromSeconds(60), () => Task.FromResult($"the impostor's readiness never said it was refused: {body}"));
        Assert.Contains("frontend01", body, StringComparison.Ordinal);

        // The front end it imitated is untouched.
        using var original = await new HttpClient().GetAsync(new Uri(system.Frontends[0].App.BaseAddress, "health/ready"));
        Assert.Equal(HttpStatusCode.OK, original.StatusCode);
    }
}

namespace Voting.Local.Applications;

/// <summary>Asks an application's <c>/health/ready</c>, as Swarm's health checks and the load balancer do.</summary>
public static class Readiness
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    /// <summary>The status code <c>/health/ready</c> answers now; null when nothing answers.</summary>
    public static async Task<int?> StatusAsync(Uri baseAddress)
    {
        try
        {
            using var response = await Probe.GetAsync(new Uri(baseAddress, "health/ready"));
            return (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Not listening or not answering (yet).
            return null;
        }
    }
}

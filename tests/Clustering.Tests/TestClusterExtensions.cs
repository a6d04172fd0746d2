using Orleans.TestingHost;
using Voting.Testing;

namespace Voting.Clustering.Tests;

internal static class TestClusterExtensions
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits until the cluster sees every silo it started as active. <c>TestCluster.DeployAsync</c> returns once
    /// each silo has started, but the others may still be reading it as joining, and so may a table read; on a busy
    /// machine a test that looked at once saw one silo (CI, stop 6).
    /// </summary>
    public static Task WaitUntilEverySiloIsActiveAsync(this TestCluster cluster)
    {
        var started = cluster.Silos.Select(s => s.SiloAddress).ToHashSet();
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        return Poll.UntilAsync(
            async () => (await management.GetHosts(onlyActive: true)).Keys.ToHashSet().SetEquals(started),
            Patience,
            async () => $"The cluster sees [{string.Join(", ", (await management.GetHosts(onlyActive: true)).Keys)}] as active; it started [{string.Join(", ", started)}].");
    }
}

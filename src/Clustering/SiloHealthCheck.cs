using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Voting.Clustering;

/// <summary>Ready when this silo is an active member of the cluster.</summary>
public sealed class SiloHealthCheck(IClusterMembershipService membership, ILocalSiloDetails localSilo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = membership.CurrentSnapshot;
        var status = snapshot.GetSiloStatus(localSilo.SiloAddress);
        var active = snapshot.Members.Values.Count(m => m.Status == SiloStatus.Active);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"{active} active silo(s)")
            : HealthCheckResult.Unhealthy($"This silo is {status} in the cluster."));
    }
}

using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Voting.Web.Frontend;

/// <summary>
/// Whether the cluster's registry refused this front end (<see cref="FrontendRegistration"/>): its stream would then
/// have no drainer, so it must not take votes. Not yet registered is fine — votes wait in Redis until a worker is up.
/// </summary>
public sealed class RegistrationRefusal
{
    private volatile string? _reason;

    /// <summary>Why the registry refused the last registration, or null if it did not.</summary>
    public string? Reason => _reason;

    public void Refused(string reason) => _reason = reason;

    public void Accepted() => _reason = null;
}

/// <summary>Not ready while the registry refuses this front end.</summary>
public sealed class RegistrationHealthCheck(RegistrationRefusal refusal) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(refusal.Reason is { } reason
            ? HealthCheckResult.Unhealthy("The cluster refused this front end's registration, so its votes would not be drained: " + reason)
            : HealthCheckResult.Healthy());
}

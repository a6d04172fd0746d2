using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Voting.Grains.Draining;
using Voting.Grains.Identity;
using Voting.Grains.Polling;
using Voting.Grains.Registry;
using Voting.Storage.Postgres;

namespace Voting.Grains;

public static class WorkerHostingExtensions
{
    /// <summary>
    /// Services the worker grains need: options bound from configuration, the shared Redis connections and the vote
    /// writer. The caller registers an <c>NpgsqlDataSource</c>, and the poll's configured schedule (<see cref="PollDefaults"/>).
    /// </summary>
    public static IServiceCollection AddVotingWorkerGrains(this IServiceCollection services)
    {
        services.AddOptions<DrainingOptions>().BindConfiguration(DrainingOptions.SectionName)
            .Validate(o => o.BatchSize is > 0 and <= 100_000, "Draining:BatchSize must be between 1 and 100000.")
            .Validate(o => o.ShardCount is > 0 and <= 65_536, "Draining:ShardCount must be between 1 and 65536.")
            .Validate(o => o.PollInterval > TimeSpan.Zero, "Draining:PollInterval must be positive.")
            .Validate(o => o.MinRetryDelay > TimeSpan.Zero && o.MaxRetryDelay >= o.MinRetryDelay,
                "Draining:MinRetryDelay must be positive and not above Draining:MaxRetryDelay.")
            .ValidateOnStart();
        services.AddOptions<DrainerRedisOptions>().BindConfiguration(DrainerRedisOptions.SectionName)
            .Validate(o => string.IsNullOrEmpty(o.RedisUser) || !string.IsNullOrEmpty(o.RedisPassword),
                "Setting 'Drainers:RedisPassword' is required (environment variable Drainers__RedisPassword): Drainers:RedisUser is set, give its password too.")
            .Validate(o => string.IsNullOrEmpty(o.RedisPassword) || !string.IsNullOrEmpty(o.RedisUser),
                "Setting 'Drainers:RedisUser' is required (environment variable Drainers__RedisUser): Drainers:RedisPassword is set, name the ACL user it belongs to.")
            .ValidateOnStart();
        services.AddOptions<VoterIdentityOptions>().BindConfiguration(VoterIdentityOptions.SectionName)
            .Validate(o => o.MaxVotersPerShard >= 2, "VoterIdentity:MaxVotersPerShard must be at least 2.")
            .ValidateOnStart();
        services.AddOptions<RegistryOptions>().BindConfiguration(RegistryOptions.SectionName)
            .Validate(o => o.ReviveInterval >= TimeSpan.FromMinutes(1), "Registry:ReviveInterval must be at least one minute (a reminder's minimum period).")
            .Validate(o => o.RunningWindow > TimeSpan.Zero, "Registry:RunningWindow must be positive (longer than the front ends' registration interval).")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        // The host registers the configured schedule (section Poll); without one, the poll has no window.
        services.TryAddSingleton(PollDefaults.Unlimited);
        services.AddSingleton<RedisConnections>();
        services.AddSingleton<VoteWriter>();
        services.AddHostedService<DrainerRevival>();
        return services;
    }
}

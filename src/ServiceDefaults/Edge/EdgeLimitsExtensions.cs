using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Configuration;

namespace Voting.ServiceDefaults.Edge;

/// <summary>Applies <see cref="EdgeLimitsOptions"/> to Kestrel, validated at start-up.</summary>
public static class EdgeLimitsExtensions
{
    public static IHostApplicationBuilder AddVotingEdgeLimits(this IHostApplicationBuilder builder)
    {
        const string Section = EdgeLimitsOptions.SectionName;
        builder.Services.AddOptions<EdgeLimitsOptions>()
            .BindConfiguration(Section)
            .Validate(o => o.RequestHeadersTimeout > TimeSpan.Zero, SettingsValidation.Invalid(Section + ":RequestHeadersTimeout", "must be positive."))
            .Validate(o => o.KeepAliveTimeout > TimeSpan.Zero, SettingsValidation.Invalid(Section + ":KeepAliveTimeout", "must be positive."))
            .Validate(o => o.MaxConcurrentConnections >= 1, SettingsValidation.Invalid(Section + ":MaxConcurrentConnections", "must be at least 1."))
            .Validate(o => o.MaxRequestHeadersTotalSize is >= 4096 and <= 1024 * 1024,
                SettingsValidation.Invalid(Section + ":MaxRequestHeadersTotalSize", "must be between 4096 and 1048576 bytes."))
            .Validate(o => o.MinRequestBodyBytesPerSecond > 0 && double.IsFinite(o.MinRequestBodyBytesPerSecond),
                SettingsValidation.Invalid(Section + ":MinRequestBodyBytesPerSecond", "must be a positive number of bytes a second."))
            .Validate(o => o.MinRequestBodyGracePeriod >= TimeSpan.FromSeconds(1),
                SettingsValidation.Invalid(Section + ":MinRequestBodyGracePeriod", "must be at least one second (Kestrel checks the rate once a second)."))
            .ValidateOnStart();
        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<EdgeLimitsOptions>>((kestrel, edge) =>
            {
                var limits = edge.Value;
                kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
                kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
                kestrel.Limits.MaxConcurrentConnections = limits.MaxConcurrentConnections;
                kestrel.Limits.MaxConcurrentUpgradedConnections = limits.MaxConcurrentConnections;
                kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
                kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(limits.MinRequestBodyBytesPerSecond, limits.MinRequestBodyGracePeriod);
            });
        return builder;
    }
}

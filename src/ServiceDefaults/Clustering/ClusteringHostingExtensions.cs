using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Dashboard;
using Voting.ServiceDefaults.Configuration;
using Voting.ServiceDefaults.Health;

namespace Voting.ServiceDefaults.Clustering;

public static class ClusteringHostingExtensions
{
    /// <summary>
    /// Joins this silo to the voting cluster as configured in section <c>Clustering</c>: identity, endpoints (on the
    /// advertised address only, loopback by default), the membership provider, and the dashboard's data collection.
    /// </summary>
    public static ISiloBuilder UseVotingCluster(this ISiloBuilder silo, IConfiguration configuration, SiloRole role)
    {
        var options = ReadOptions(configuration);
        var advertised = IPAddress.Parse(options.AdvertisedAddress);

        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        silo.ConfigureEndpoints(advertised, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
        silo.Configure<SiloOptions>(o => o.SiloName = $"{role.ToString().ToLowerInvariant()}-{options.SiloPort}");

        switch (options.Provider)
        {
            case ClusteringProvider.Localhost:
                var primary = string.IsNullOrWhiteSpace(options.PrimarySiloEndpoint)
                    ? new IPEndPoint(advertised, options.SiloPort)
                    : IPEndPoint.Parse(options.PrimarySiloEndpoint);
                silo.UseDevelopmentClustering(primary);
                // Reminders are a ring over every silo, web silos included: all must run the same reminder service.
                silo.UseInMemoryReminderService();
                break;
        }

        silo.AddDashboard();
        silo.Services.AddHealthChecks().AddCheck<SiloHealthCheck>("cluster", tags: [HealthEndpoints.ReadyTag], timeout: HealthEndpoints.CheckTimeout);
        return silo;
    }

    /// <summary>Reads and validates the clustering settings now: a silo cannot start without them.</summary>
    public static ClusteringOptions ReadOptions(IConfiguration configuration)
    {
        var section = configuration.GetSection(ClusteringOptions.SectionName);
        var failures = new List<string>();
        var options = new ClusteringOptions();
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            failures.Add(SettingsValidation.Invalid("Clustering", $"cannot be read: {e.Message} Providers: {string.Join(", ", Enum.GetNames<ClusteringProvider>())}."));
            SettingsValidation.ThrowIfAny(ClusteringOptions.SectionName, failures);
        }

        if (string.IsNullOrWhiteSpace(options.ClusterId))
        {
            failures.Add(SettingsValidation.Missing("Clustering:ClusterId"));
        }

        if (string.IsNullOrWhiteSpace(options.ServiceId))
        {
            failures.Add(SettingsValidation.Missing("Clustering:ServiceId"));
        }

        if (!IPAddress.TryParse(options.AdvertisedAddress, out _))
        {
            failures.Add(SettingsValidation.Invalid("Clustering:AdvertisedAddress", $"must be an IP address, not '{options.AdvertisedAddress}'."));
        }

        if (options.SiloPort is < 1 or > 65535)
        {
            failures.Add(SettingsValidation.Invalid("Clustering:SiloPort", "must be a port number (1-65535)."));
        }

        if (options.GatewayPort is < 0 or > 65535)
        {
            failures.Add(SettingsValidation.Invalid("Clustering:GatewayPort", "must be a port number, or 0 for no gateway."));
        }

        if (!string.IsNullOrWhiteSpace(options.PrimarySiloEndpoint) && !IPEndPoint.TryParse(options.PrimarySiloEndpoint, out _))
        {
            failures.Add(SettingsValidation.Invalid("Clustering:PrimarySiloEndpoint", $"must be ip:port, not '{options.PrimarySiloEndpoint}'."));
        }

        SettingsValidation.ThrowIfAny(ClusteringOptions.SectionName, failures);
        return options;
    }
}

using System.Net;
using Microsoft.Extensions.Configuration;
using Voting.Clustering.AdoNet;
using Voting.Clustering.Consul;
using Voting.Clustering.Tls;
using Voting.ServiceDefaults.Configuration;

namespace Voting.Clustering;

/// <summary>
/// Section <c>Clustering</c>, read and validated while the host is being built: a silo or client cannot even be
/// configured without it. Every message names the setting.
/// </summary>
public static class ClusteringSettings
{
    /// <summary>Reads and validates the clustering settings now: a silo cannot start without them.</summary>
    /// <param name="configuration">The host's settings.</param>
    /// <param name="client">
    /// For an Orleans client, which advertises no address and, on Consul, keeps nothing in PostgreSQL.
    /// </param>
    public static ClusteringOptions Read(IConfiguration configuration, bool client = false)
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

        if (client)
        {
            // Nobody connects to a client: whatever the shared settings advertise is not its business.
        }
        else if (AdvertisedAddress.Resolve(options.AdvertisedAddress, out var problem) is { } advertised)
        {
            options.ResolvedAdvertisedAddress = advertised;
        }
        else
        {
            failures.Add(SettingsValidation.Invalid("Clustering:AdvertisedAddress", problem));
        }

        if (options.SiloPort is < 1 or > 65535)
        {
            failures.Add(SettingsValidation.Invalid("Clustering:SiloPort", "must be a port number (1-65535)."));
        }

        if (options.GatewayPort is < 0 or > 65535)
        {
            failures.Add(SettingsValidation.Invalid("Clustering:GatewayPort", "must be a port number, or 0 for no gateway."));
        }

        if (!IPEndPoint.TryParse(options.LocalhostGateway, out _))
        {
            failures.Add(SettingsValidation.Invalid("Clustering:LocalhostGateway", $"must be ip:port, not '{options.LocalhostGateway}'."));
        }

        if (!string.IsNullOrWhiteSpace(options.PrimarySiloEndpoint) && !IPEndPoint.TryParse(options.PrimarySiloEndpoint, out _))
        {
            failures.Add(SettingsValidation.Invalid("Clustering:PrimarySiloEndpoint", $"must be ip:port, not '{options.PrimarySiloEndpoint}'."));
        }

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            options.ConnectionString = configuration["Postgres:ConnectionString"];
        }

        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            options.ConnectionString = OrleansPoolDefaults.Apply(options.ConnectionString);
        }

        options.ResolvedTls = ClusterTls.Read(options.Tls, failures, DateTimeOffset.UtcNow);
        if (string.IsNullOrWhiteSpace(options.MigrationConnectionString))
        {
            options.MigrationConnectionString = configuration["Postgres:MigrationConnectionString"];
        }

        if (options.Provider == ClusteringProvider.Consul)
        {
            var consul = new ConsulClusteringOptions();
            configuration.GetSection(ConsulClusteringOptions.SectionName).Bind(consul);
            failures.AddRange(ConsulClusteringOptionsValidator.Failures(consul));
        }

        var needsPostgres = client ? options.Provider == ClusteringProvider.AdoNet : options.Provider != ClusteringProvider.Localhost;
        if (needsPostgres && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add(SettingsValidation.Missing("Clustering:ConnectionString",
                $"Clustering:Provider {options.Provider} keeps Orleans' tables in PostgreSQL (Postgres:ConnectionString is used when set)."));
        }

        SettingsValidation.ThrowIfAny(ClusteringOptions.SectionName, failures);
        return options;
    }
}

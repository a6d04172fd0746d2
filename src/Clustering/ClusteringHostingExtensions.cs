using System.Net;
using System.Net.NetworkInformation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Voting.Clustering.AdoNet;
using Voting.Clustering.Consul;
using Voting.ServiceDefaults.Configuration;
using Voting.ServiceDefaults.Health;

namespace Voting.Clustering;

public static class ClusteringHostingExtensions
{
    /// <summary>
    /// Joins this silo to the voting cluster as configured in section <c>Clustering</c>: identity, endpoints (on the
    /// advertised address only, loopback by default), the membership table, the reminder service (a ring over every
    /// silo, so every silo runs the same one), failure detection, and the readiness check. The dashboard's data
    /// collection is the silo host's own (<c>AddDashboard</c>), so that Orleans clients do not carry the dashboard.
    /// </summary>
    public static ISiloBuilder UseVotingCluster(this ISiloBuilder silo, IConfiguration configuration, SiloRole role)
    {
        var options = ReadOptions(configuration);
        var advertised = options.ResolvedAdvertisedAddress;

        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        silo.ConfigureEndpoints(advertised, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
        // Role, host and port: in a swarm every silo listens on the same port, on a host of its own.
        silo.Configure<SiloOptions>(o => o.SiloName = $"{role.ToString().ToLowerInvariant()}-{Environment.MachineName}-{options.SiloPort}");

        switch (options.Provider)
        {
            case ClusteringProvider.Localhost:
                var primary = string.IsNullOrWhiteSpace(options.PrimarySiloEndpoint)
                    ? new IPEndPoint(advertised, options.SiloPort)
                    : IPEndPoint.Parse(options.PrimarySiloEndpoint);
                silo.UseDevelopmentClustering(primary);
                silo.UseInMemoryReminderService();
                break;
            case ClusteringProvider.AdoNet:
                silo.UsePostgresClustering(options.ConnectionString!);
                silo.UsePostgresReminderService(options.ConnectionString!);
                break;
            case ClusteringProvider.Consul:
                silo.UseConsulSiloClustering(consul => configuration.GetSection(ConsulClusteringOptions.SectionName).Bind(consul));
                silo.UsePostgresReminderService(options.ConnectionString!);
                break;
        }

        silo.Configure<ClusterMembershipOptions>(membership =>
        {
            // Tuned for a prompt failover of drainers on a small cluster; see docs/RELIABILITY.md for the figures.
            membership.ProbeTimeout = TimeSpan.FromSeconds(2);
            membership.NumMissedProbesLimit = 3;
            membership.NumVotesForDeathDeclaration = 2;
            configuration.GetSection($"{ClusteringOptions.SectionName}:Membership").Bind(membership);
        });

        silo.Services.AddHealthChecks().AddCheck<SiloHealthCheck>("cluster", tags: [HealthEndpoints.ReadyTag], timeout: HealthEndpoints.CheckTimeout);
        return silo;
    }

    /// <summary>
    /// Connects this Orleans client to the voting cluster through the same <c>Clustering</c> settings the silos use.
    /// With <c>Localhost</c> clustering the client finds the primary silo's gateway at <c>Clustering:LocalhostGateway</c>.
    /// </summary>
    public static IClientBuilder UseVotingCluster(this IClientBuilder client, IConfiguration configuration)
    {
        var options = ReadOptions(configuration, client: true);
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        switch (options.Provider)
        {
            case ClusteringProvider.Localhost:
                client.UseStaticClustering(IPEndPoint.Parse(options.LocalhostGateway));
                break;
            case ClusteringProvider.AdoNet:
                client.UsePostgresClustering(options.ConnectionString!);
                break;
            case ClusteringProvider.Consul:
                client.UseConsulClientClustering(consul => configuration.GetSection(ConsulClusteringOptions.SectionName).Bind(consul));
                break;
        }

        return client;
    }

    /// <summary>
    /// An Orleans client for a host that reads from the cluster but must serve without it: it connects in the
    /// background (<see cref="ClusterClientConnection"/>) and reports <c>Degraded</c> while it cannot.
    /// </summary>
    /// <param name="builder">The application.</param>
    /// <param name="readiness">
    /// Whether the application is ready only while connected; a load balancer, which routes by what it last heard
    /// from the cluster, is not.
    /// </param>
    public static IHostApplicationBuilder AddVotingClusterClient(this IHostApplicationBuilder builder, bool readiness = true)
    {
        ReadOptions(builder.Configuration, client: true);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ClusterClientConnection>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ClusterClientConnection>());
        builder.Services.AddHealthChecks().AddCheck<ClusterClientConnection>("cluster", tags: readiness ? [HealthEndpoints.ReadyTag] : []);
        return builder;
    }

    /// <summary>
    /// Adds the grain storage provider <paramref name="name"/> where the cluster keeps its state: PostgreSQL unless
    /// the cluster runs on <c>Localhost</c> clustering, where state lives as long as the silos.
    /// </summary>
    public static ISiloBuilder AddVotingGrainStorage(this ISiloBuilder silo, IConfiguration configuration, string name)
    {
        var options = ReadOptions(configuration);
        return options.Provider == ClusteringProvider.Localhost
            ? silo.AddMemoryGrainStorage(name)
            : silo.AddPostgresGrainStorage(name, options.ConnectionString!);
    }

    /// <summary>
    /// Orleans' reminder service reads the ring's ranges all at once when silos join, which grows a connection pool
    /// to dozens of connections per silo that then sit idle for minutes; a few servers' worth exhaust PostgreSQL's
    /// <c>max_connections</c>. Unless the connection string says otherwise, Orleans gets a small pool whose idle
    /// connections close within a minute.
    /// </summary>
    private static string WithOrleansPoolDefaults(string connectionString)
    {
        var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        string[] maxPool = ["Maximum Pool Size", "Max Pool Size", "MaxPoolSize"];
        string[] idle = ["Connection Idle Lifetime", "ConnectionIdleLifetime"];
        if (!maxPool.Any(builder.ContainsKey))
        {
            builder["Maximum Pool Size"] = 8;
        }

        if (!idle.Any(builder.ContainsKey))
        {
            builder["Connection Idle Lifetime"] = 60;
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// An IP address as it is; a network (<c>10.0.9.0/24</c>) as this machine's address in it; a host name as the first
    /// address it resolves to (IPv4 first).
    /// </summary>
    private static IPAddress? ResolveAdvertisedAddress(string value, out string problem)
    {
        problem = "";
        if (IPAddress.TryParse(value, out var address))
        {
            return address;
        }

        if (value.Contains('/', StringComparison.Ordinal))
        {
            if (!IPNetwork.TryParse(value, out var network))
            {
                problem = $"must be an IP address, a network (e.g. 10.0.9.0/24) or a host name, not '{value}'.";
                return null;
            }

            var local = NetworkInterface.GetAllNetworkInterfaces()
                .Where(i => i.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown)
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .ToArray();
            if (local.FirstOrDefault(network.Contains) is { } inNetwork)
            {
                return inNetwork;
            }

            problem = $"names network {value}, but no address of this machine is in it (it has {string.Join(", ", local.Select(a => a.ToString()))}).";
            return null;
        }

        if (Uri.CheckHostName(value) != UriHostNameType.Dns)
        {
            problem = $"must be an IP address or a host name, not '{value}'.";
            return null;
        }

        try
        {
            var addresses = Dns.GetHostAddresses(value);
            if (addresses.OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault() is { } resolved)
            {
                return resolved;
            }

            problem = $"names host '{value}', which resolves to no address.";
        }
        catch (System.Net.Sockets.SocketException e)
        {
            problem = $"names host '{value}', which cannot be resolved: {e.Message}";
        }

        return null;
    }

    /// <summary>Reads and validates the clustering settings now: a silo cannot start without them.</summary>
    /// <param name="configuration">The host's settings.</param>
    /// <param name="client">
    /// For an Orleans client, which advertises no address and, on Consul, keeps nothing in PostgreSQL.
    /// </param>
    public static ClusteringOptions ReadOptions(IConfiguration configuration, bool client = false)
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
        else if (ResolveAdvertisedAddress(options.AdvertisedAddress, out var problem) is { } advertised)
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
            options.ConnectionString = WithOrleansPoolDefaults(options.ConnectionString);
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

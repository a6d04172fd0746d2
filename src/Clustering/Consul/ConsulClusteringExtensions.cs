using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Messaging;

namespace Voting.Clustering.Consul;

public static class ConsulClusteringExtensions
{
    /// <summary>
    /// Keeps this silo's membership table in Consul (<see cref="ConsulMembershipTable"/>). The options are validated when
    /// the host starts; bind them from section <see cref="ConsulClusteringOptions.SectionName"/> inside
    /// <paramref name="configure"/>.
    /// </summary>
    public static ISiloBuilder UseConsulSiloClustering(this ISiloBuilder silo, Action<ConsulClusteringOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(silo);
        AddOptions(silo.Services, configure);
        silo.Services.AddSingleton<IMembershipTable, ConsulMembershipTable>();
        return silo;
    }

    /// <summary>Finds this client's gateways in the membership table the silos keep in Consul (<see cref="ConsulGatewayListProvider"/>).</summary>
    public static IClientBuilder UseConsulClientClustering(this IClientBuilder client, Action<ConsulClusteringOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(client);
        AddOptions(client.Services, configure);
        client.Services.AddSingleton<IGatewayListProvider, ConsulGatewayListProvider>();
        return client;
    }

    private static void AddOptions(IServiceCollection services, Action<ConsulClusteringOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ConsulClusteringOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsulClusteringOptions>, ConsulClusteringOptionsValidator>());
    }
}

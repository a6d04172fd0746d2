using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;

namespace Voting.Clustering.Consul;

/// <summary>
/// Tells Orleans clients where the gateways are: the active silos with a gateway port, read from the membership rows
/// that <see cref="ConsulMembershipTable"/> keeps in Consul.
/// </summary>
public sealed class ConsulGatewayListProvider : IGatewayListProvider, IDisposable
{
    private readonly ConsulKvClient _consul;
    private readonly ConsulKeys _keys;
    private readonly TimeSpan _refreshPeriod;

    public ConsulGatewayListProvider(
        IOptions<ConsulClusteringOptions> options,
        IOptions<ClusterOptions> clusterOptions,
        IOptions<GatewayOptions> gatewayOptions,
        ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        ArgumentNullException.ThrowIfNull(gatewayOptions);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var consul = options.Value;
        ConsulClusteringOptionsValidator.ThrowIfInvalid(consul);
        _keys = new ConsulKeys(consul.KvRoot, clusterOptions.Value.ClusterId);
        _refreshPeriod = gatewayOptions.Value.GatewayListRefreshPeriod;
        _consul = new ConsulKvClient(consul, loggerFactory.CreateLogger<ConsulKvClient>());
    }

    public TimeSpan MaxStaleness => _refreshPeriod;

    [Obsolete("Orleans no longer reads it: every provider is considered updatable.")]
    bool IGatewayListProvider.IsUpdatable => true;

    public Task InitializeGatewayListProviderAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task InitializeGatewayListProvider() => InitializeGatewayListProviderAsync(CancellationToken.None);

    public Task<IList<Uri>> GetGateways() => GetGatewaysAsync(CancellationToken.None);

    /// <summary>One read of the <c>members/</c> folder; each active silo's gateway as <c>gwy.tcp://ip:proxyPort/generation</c>.</summary>
    public async Task<IList<Uri>> GetGatewaysAsync(CancellationToken cancellationToken)
    {
        var tree = await _consul.ReadTreeAsync(_keys.Members, cancellationToken);
        return ConsulMembershipSnapshot.Read(_keys, tree.Pairs).Members
            .Select(member => member.Item1)
            .Where(entry => entry.Status == SiloStatus.Active && entry.ProxyPort > 0)
            .Select(entry => SiloAddress.New(entry.SiloAddress.Endpoint.Address, entry.ProxyPort, entry.SiloAddress.Generation).ToGatewayUri())
            .Distinct()
            .ToList();
    }

    public void Dispose() => _consul.Dispose();
}

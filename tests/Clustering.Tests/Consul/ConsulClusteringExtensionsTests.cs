using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Voting.Clustering.Consul;

namespace Voting.Clustering.Tests.Consul;

/// <summary><c>UseConsulSiloClustering</c> and <c>UseConsulClientClustering</c> validate their settings when the host starts, before anything talks to Consul.</summary>
public sealed class ConsulClusteringExtensionsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ASiloWithBadConsulSettingsDoesNotStartAndNamesTheSettings()
    {
        using var host = new HostBuilder()
            .UseOrleans(silo => silo.UseConsulSiloClustering(options => options.KvRoot = "no-trailing-slash"))
            .Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Patience));

        Assert.Contains("Clustering:Consul:Address", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clustering:Consul:KvRoot", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientWithoutAConsulAddressDoesNotStartAndNamesTheSetting()
    {
        using var host = new HostBuilder()
            .UseOrleansClient(client => client.UseConsulClientClustering(_ => { }))
            .Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Patience));

        Assert.Contains("Clustering__Consul__Address", error.Message, StringComparison.Ordinal);
    }
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Clustering.Consul;

namespace Voting.Clustering.Tests.Consul;

/// <summary><c>UseConsulClustering</c> validates its settings when the host starts, before anything talks to Consul.</summary>
public sealed class ConsulClusteringExtensionsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ASiloWithBadConsulSettingsDoesNotStartAndNamesTheSettings()
    {
        using var host = new HostBuilder()
            .UseOrleans(silo => silo.UseConsulClustering(options => options.KvRoot = "no-trailing-slash"))
            .Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Patience));

        Assert.Contains("Clustering:Consul:Address", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clustering:Consul:KvRoot", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientWithoutAConsulAddressDoesNotStartAndNamesTheSetting()
    {
        using var host = new HostBuilder()
            .UseOrleansClient(client => client.UseConsulClustering(_ => { }))
            .Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Patience));

        Assert.Contains("Clustering__Consul__Address", error.Message, StringComparison.Ordinal);
    }
}

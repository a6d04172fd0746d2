using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Voting.Clustering.Tls;
using Voting.Testing;

namespace Voting.Clustering.Tests.Tls;

[Collection(ClusterTlsCollection.Name)]
public sealed class ClusterTlsTests(ClusterTlsFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task MembersWithTheClusterCertificateFormTheClusterAndCallGrains()
    {
        // Both silos active: the second joined the first over TLS. And the client's calls reach both.
        var management = fixture.Cluster.Client.GetGrain<IManagementGrain>(0);
        Assert.Equal(2, (await management.GetHosts(onlyActive: true)).Count);

        var hosts = new HashSet<string>();
        for (var i = 0; i < 40 && hosts.Count < 2; i++)
        {
            hosts.Add(await fixture.Cluster.Client.GetGrain<ITlsEchoGrain>(i).WhereAsync());
        }

        Assert.Equal(fixture.Cluster.Silos.Select(s => s.SiloAddress.ToString()).ToHashSet(), hosts);
    }

    [Fact]
    public async Task AClientWithoutTlsCannotConnectToAGateway()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(tls: null));
        Assert.IsNotType<TimeoutException>(error);
    }

    [Fact]
    public async Task AClientWithAnotherCertificateCannotConnectToAGateway()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(ClusterTlsFixture.Read(fixture.Stranger)));
        Assert.IsNotType<TimeoutException>(error);
    }

    [Fact]
    public async Task AClientWithTheClusterCertificateConnectsToAGateway()
    {
        // The control for the two tests above: the same kind of client, with the member's certificate, works.
        await ConnectAsync(ClusterTlsFixture.Read(fixture.Member));
    }

    [Fact]
    public async Task ASiloPortRefusesAHandshakeWithoutTheClusterCertificate()
    {
        var silo = fixture.Cluster.Primary!.SiloAddress.Endpoint;
        var member = ClusterTlsFixture.Read(fixture.Member).Certificate;
        await Assert.ThrowsAnyAsync<Exception>(() => TlsProbe.HandshakeAsync(silo, member, clientCertificate: null));
        await Assert.ThrowsAnyAsync<Exception>(() => TlsProbe.HandshakeAsync(silo, member, ClusterTlsFixture.Read(fixture.Stranger).Certificate));
        await TlsProbe.HandshakeAsync(silo, member, member);
    }

    [Fact]
    public async Task ASiloPortSpeaksNothingButTls()
    {
        // Bytes in the clear, shaped like an Orleans connection preamble: nothing comes back but, at most, an alert.
        var answer = await TlsProbe.AnswerToClearTextAsync(fixture.Cluster.Primary!.SiloAddress.Endpoint, [0, 0, 0, 16, .. new byte[16]]);
        Assert.True(TlsProbe.IsNothingButTlsAlerts(answer), $"The silo port answered {answer.Length} bytes in the clear.");
    }

    private async Task ConnectAsync(ClusterTls? tls)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = fixture.Cluster.Options.ClusterId;
                o.ServiceId = fixture.Cluster.Options.ServiceId;
            });
            client.UseStaticClustering(fixture.Cluster.Silos.Select(s => s.GatewayAddress.Endpoint).ToArray());
            // Give up at the first refusal: a client that keeps retrying would only turn the refusal into a timeout.
            client.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
            if (tls is not null)
            {
                client.UseClusterTls(tls);
            }
        });
        using var host = builder.Build();
        await host.StartAsync().WaitAsync(Patience);
        try
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            Assert.False(string.IsNullOrEmpty(await client.GetGrain<ITlsEchoGrain>(0).WhereAsync().WaitAsync(Patience)));
        }
        finally
        {
            await host.StopAsync();
        }
    }
}

/// <summary>Says which silo its activation lives on.</summary>
[Alias("Voting.Clustering.Tests.Tls.ITlsEchoGrain")]
public interface ITlsEchoGrain : IGrainWithIntegerKey
{
    [Alias("WhereAsync")]
    Task<string> WhereAsync();
}

public sealed class TlsEchoGrain(ILocalSiloDetails silo) : Grain, ITlsEchoGrain
{
    public Task<string> WhereAsync() => Task.FromResult(silo.SiloAddress.ToString());
}

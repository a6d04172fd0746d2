using System.Net;

namespace Voting.Clustering.Tests.AdoNet;

/// <summary>
/// The fixture's two silos and its client, which find each other only through the PostgreSQL table: the silos through
/// the membership provider, the client through the gateway list provider (it could not call a grain otherwise).
/// </summary>
[Collection(AdoNetCollection.Name)]
public sealed class ClusterMembershipTests(AdoNetFixture fixture)
{
    [Fact]
    public async Task TwoSilosFormAClusterThroughThePostgresTable()
    {
        var hosts = await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Equal(2, hosts.Count);
        Assert.Equal(fixture.Cluster.Silos.Select(s => s.SiloAddress).Order(), hosts.Keys.Order());

        await using var command = fixture.DataSource.CreateCommand(
            "SELECT address, port, generation FROM orleans_membership WHERE deployment_id = @cluster AND status = 3");
        command.Parameters.AddWithValue("cluster", fixture.ClusterId);
        var rows = new List<SiloAddress>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add(SiloAddress.New(IPAddress.Parse(reader.GetString(0)), reader.GetInt32(1), reader.GetInt32(2)));
            }
        }

        Assert.Equal(hosts.Keys.Order(), rows.Order());
    }

    [Fact]
    public async Task JoiningSilosMovedTheTableVersionOn()
    {
        // Each silo's row went in as Joining and was then updated to Active, each step a new table version.
        await using var command = fixture.DataSource.CreateCommand("SELECT version FROM orleans_membership_version WHERE deployment_id = @cluster");
        command.Parameters.AddWithValue("cluster", fixture.ClusterId);

        var version = (int)(await command.ExecuteScalarAsync())!;

        Assert.True(version >= 4, $"Table version {version} after two silos joined.");
    }
}

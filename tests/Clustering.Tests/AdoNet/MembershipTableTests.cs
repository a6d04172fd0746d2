using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;
using Voting.Clustering.AdoNet;

namespace Voting.Clustering.Tests.AdoNet;

/// <summary>
/// Orleans' own <see cref="AdoNetClusteringTable"/> and <see cref="AdoNetGatewayListProvider"/> over the project's
/// scripts, each test on a cluster id of its own in the fixture's database.
/// </summary>
[Collection(AdoNetCollection.Name)]
public sealed class MembershipTableTests(AdoNetFixture fixture) : IAsyncLifetime
{
    private readonly string _clusterId = "membership-" + Guid.NewGuid().ToString("N");
    private readonly ServiceProvider _services = new ServiceCollection().BuildServiceProvider();
    private AdoNetClusteringTable _table = null!;

    public async Task InitializeAsync()
    {
        _table = new AdoNetClusteringTable(
            _services,
            Options.Create(new ClusterOptions { ClusterId = _clusterId, ServiceId = "membership-tests" }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = "Npgsql", ConnectionString = fixture.ConnectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await _table.InitializeMembershipTableAsync(tryInitTableVersion: true);
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task ANewClusterHasVersionZeroAndNoSilos()
    {
        // Initialising again (every silo does) must neither fail nor reset the version.
        await _table.InitializeMembershipTableAsync(tryInitTableVersion: true);

        var table = await _table.ReadAllAsync();

        Assert.Empty(table.Members);
        Assert.Equal(0, table.Version.Version);
        Assert.Equal("0", table.Version.VersionEtag);
    }

    [Fact]
    public async Task InsertedSiloIsReadBackByRowAndInFull()
    {
        var entry = NewEntry(port: 11111, proxyPort: 30000);

        Assert.True(await _table.InsertRowAsync(entry, (await _table.ReadAllAsync()).Version.Next()));

        var row = Assert.Single((await _table.ReadRowAsync(entry.SiloAddress)).Members);
        AssertSameEntry(entry, row.Item1);
        Assert.Equal("1", row.Item2);
        var all = await _table.ReadAllAsync();
        AssertSameEntry(entry, Assert.Single(all.Members).Item1);
        Assert.Equal(1, all.Version.Version);
    }

    [Fact]
    public async Task ReadingAnUnknownSiloGivesTheVersionAndNoRow()
    {
        await InsertAsync(NewEntry(port: 11111));

        var row = await _table.ReadRowAsync(NewEntry(port: 22222).SiloAddress);

        Assert.Empty(row.Members);
        Assert.Equal(1, row.Version.Version);
    }

    [Fact]
    public async Task InsertWithAStaleTableVersionIsRefused()
    {
        var stale = (await _table.ReadAllAsync()).Version.Next();
        Assert.True(await _table.InsertRowAsync(NewEntry(port: 11111), stale));

        Assert.False(await _table.InsertRowAsync(NewEntry(port: 22222), stale));

        var table = await _table.ReadAllAsync();
        Assert.Equal(11111, Assert.Single(table.Members).Item1.SiloAddress.Endpoint.Port);
        Assert.Equal(1, table.Version.Version);
    }

    [Fact]
    public async Task InsertingAnExistingSiloIsRefusedAndLeavesTheVersion()
    {
        var entry = NewEntry(port: 11111);
        await InsertAsync(entry);

        var duplicate = NewEntry(port: 11111);
        duplicate.SiloAddress = entry.SiloAddress;
        duplicate.SiloName = "impostor";
        Assert.False(await _table.InsertRowAsync(duplicate, (await _table.ReadAllAsync()).Version.Next()));

        var table = await _table.ReadAllAsync();
        Assert.Equal(entry.SiloName, Assert.Single(table.Members).Item1.SiloName);
        Assert.Equal(1, table.Version.Version);
    }

    [Fact]
    public async Task StaleEtagUpdateIsRefused()
    {
        var entry = NewEntry(port: 11111);
        await InsertAsync(entry);
        var (read, etag) = Assert.Single((await _table.ReadRowAsync(entry.SiloAddress)).Members);
        var readVersion = (await _table.ReadRowAsync(entry.SiloAddress)).Version;

        read.Status = SiloStatus.Active;
        Assert.True(await _table.UpdateRowAsync(read, etag, readVersion.Next()));

        read.Status = SiloStatus.Dead;
        Assert.False(await _table.UpdateRowAsync(read, etag, readVersion.Next()));

        var table = await _table.ReadAllAsync();
        Assert.Equal(SiloStatus.Active, Assert.Single(table.Members).Item1.Status);
        Assert.Equal(2, table.Version.Version);
    }

    [Fact]
    public async Task UpdatingAnUnknownSiloIsRefusedAndLeavesTheVersion()
    {
        await InsertAsync(NewEntry(port: 11111));
        var table = await _table.ReadAllAsync();

        var unknown = NewEntry(port: 22222);
        Assert.False(await _table.UpdateRowAsync(unknown, table.Version.VersionEtag, table.Version.Next()));

        Assert.Equal(1, (await _table.ReadAllAsync()).Version.Version);
    }

    [Fact]
    public async Task ConcurrentWritersOfOneTableVersionHaveExactlyOneWinner()
    {
        var entries = Enumerable.Range(0, 4).Select(i => NewEntry(port: 11111 + i)).ToList();
        foreach (var entry in entries)
        {
            await InsertAsync(entry);
        }

        var table = await _table.ReadAllAsync();
        var results = await Task.WhenAll(table.Members.Select(member => Task.Run(() =>
        {
            member.Item1.Status = SiloStatus.Active;
            return _table.UpdateRowAsync(member.Item1, member.Item2, table.Version.Next());
        })).Concat(Enumerable.Range(0, 4).Select(i => Task.Run(() =>
            _table.InsertRowAsync(NewEntry(port: 12000 + i), table.Version.Next())))));

        Assert.Single(results, won => won);
        Assert.Equal(table.Version.Version + 1, (await _table.ReadAllAsync()).Version.Version);
    }

    [Fact]
    public async Task SuspicionVotesAreKeptAndReadBack()
    {
        var entry = NewEntry(port: 11111);
        await InsertAsync(entry);
        var (read, etag) = Assert.Single((await _table.ReadAllAsync()).Members);
        var voters = new[] { NewEntry(port: 22222).SiloAddress, NewEntry(port: 33333).SiloAddress };
        var voteTime = new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc);
        read.SuspectTimes = [Tuple.Create(voters[0], voteTime), Tuple.Create(voters[1], voteTime.AddSeconds(1))];

        var version = (await _table.ReadAllAsync()).Version;
        Assert.True(await _table.UpdateRowAsync(read, etag, version.Next()));

        var votes = Assert.Single((await _table.ReadRowAsync(entry.SiloAddress)).Members).Item1.SuspectTimes;
        Assert.NotNull(votes);
        Assert.Equal(voters, votes.Select(v => v.Item1));
        Assert.Equal([voteTime, voteTime.AddSeconds(1)], votes.Select(v => v.Item2.ToUniversalTime()));
    }

    [Fact]
    public async Task IAmAliveMovesOnlyTheHeartbeat()
    {
        var entry = NewEntry(port: 11111);
        await InsertAsync(entry);
        var later = NewEntry(port: 11111, status: SiloStatus.Dead, aliveAt: entry.IAmAliveTime.AddMinutes(5));

        await _table.UpdateIAmAliveAsync(later);

        var table = await _table.ReadAllAsync();
        var row = Assert.Single(table.Members).Item1;
        Assert.Equal(later.IAmAliveTime, row.IAmAliveTime);
        Assert.Equal(entry.Status, row.Status);
        Assert.Equal(1, table.Version.Version);
    }

    [Fact]
    public async Task CleanupRemovesOnlyDeadSilosSilentSinceTheCutoff()
    {
        var cutoff = Microseconds(DateTime.UtcNow);
        var deadLongAgo = NewEntry(port: 11111, status: SiloStatus.Dead, aliveAt: cutoff.AddMinutes(-10));
        var deadRecently = NewEntry(port: 22222, status: SiloStatus.Dead, aliveAt: cutoff.AddMinutes(-10));
        var activeLongAgo = NewEntry(port: 33333, status: SiloStatus.Active, aliveAt: cutoff.AddMinutes(-10));
        foreach (var entry in new[] { deadLongAgo, deadRecently, activeLongAgo })
        {
            await InsertAsync(entry);
        }

        deadRecently.IAmAliveTime = cutoff.AddMinutes(1);
        await _table.UpdateIAmAliveAsync(deadRecently);

        await _table.CleanupDefunctSiloEntriesAsync(cutoff);

        var ports = (await _table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress.Endpoint.Port).Order();
        Assert.Equal([22222, 33333], ports);
    }

    [Fact]
    public async Task BulkCleanupQueryRemovesOnlyDeadSilosSilentSinceTheCutoff()
    {
        // The 10.x provider prefers the per-row cleanup query; the bulk one must exist and work all the same.
        var cutoff = Microseconds(DateTime.UtcNow);
        await InsertAsync(NewEntry(port: 11111, status: SiloStatus.Dead, aliveAt: cutoff.AddMinutes(-10)));
        await InsertAsync(NewEntry(port: 22222, status: SiloStatus.Dead, aliveAt: cutoff.AddMinutes(10)));
        await InsertAsync(NewEntry(port: 33333, status: SiloStatus.ShuttingDown, aliveAt: cutoff.AddMinutes(-10)));

        string sql;
        await using (var read = fixture.DataSource.CreateCommand("SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'CleanupDefunctSiloEntriesKey'"))
        {
            sql = (string)(await read.ExecuteScalarAsync())!;
        }

        await using (var cleanup = fixture.DataSource.CreateCommand(sql))
        {
            cleanup.Parameters.AddWithValue("DeploymentId", _clusterId);
            cleanup.Parameters.AddWithValue("IAmAliveTime", cutoff);
            Assert.Equal(1, await cleanup.ExecuteNonQueryAsync());
        }

        var ports = (await _table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress.Endpoint.Port).Order();
        Assert.Equal([22222, 33333], ports);
    }

    [Fact]
    public async Task DeletingTheEntriesForgetsTheClusterUntilItIsInitialisedAgain()
    {
        await InsertAsync(NewEntry(port: 11111));

        await _table.DeleteMembershipTableEntriesAsync(_clusterId);

        var forgotten = await _table.ReadAllAsync();
        Assert.Empty(forgotten.Members);
        Assert.False(await _table.InsertRowAsync(NewEntry(port: 22222), forgotten.Version.Next()));

        await _table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        await InsertAsync(NewEntry(port: 22222));
        Assert.Single((await _table.ReadAllAsync()).Members);
    }

    [Fact]
    public async Task GatewayListHasTheActiveSilosThatServeClients()
    {
        var gateway = NewEntry(port: 11111, status: SiloStatus.Active, proxyPort: 30001);
        await InsertAsync(gateway);
        await InsertAsync(NewEntry(port: 22222, status: SiloStatus.Active, proxyPort: 0));
        await InsertAsync(NewEntry(port: 33333, status: SiloStatus.Dead, proxyPort: 30003));
        await InsertAsync(NewEntry(port: 44444, status: SiloStatus.Joining, proxyPort: 30004));
        var provider = new AdoNetGatewayListProvider(
            NullLogger<AdoNetGatewayListProvider>.Instance,
            _services,
            Options.Create(new AdoNetClusteringClientOptions { Invariant = "Npgsql", ConnectionString = fixture.ConnectionString }),
            Options.Create(new GatewayOptions()),
            Options.Create(new ClusterOptions { ClusterId = _clusterId, ServiceId = "membership-tests" }));
        await provider.InitializeGatewayListProviderAsync();

        var gateways = await provider.GetGatewaysAsync();

        var expected = SiloAddress.New(gateway.SiloAddress.Endpoint.Address, gateway.ProxyPort, gateway.SiloAddress.Generation).ToGatewayUri();
        Assert.Equal(expected, Assert.Single(gateways));
    }

    [Fact]
    public async Task TimesAreStoredAsTheSameInstantWhateverTheServerTimeZone()
    {
        // The provider sends DateTime parameters as DbType.DateTime. Were they sent as timestamps without a time
        // zone, PostgreSQL would read them in the session's time zone and shift every heartbeat by its offset.
        var connectionString = await fixture.Server.CreateDatabaseAsync("membership_kathmandu");
        await using (var setup = NpgsqlDataSource.Create(connectionString))
        await using (var zone = setup.CreateCommand("ALTER DATABASE membership_kathmandu SET timezone = 'Asia/Kathmandu'"))
        {
            await zone.ExecuteNonQueryAsync();
        }

        // Sessions opened from now on start in that time zone.
        await using var dataSource = NpgsqlDataSource.Create(connectionString);

        await OrleansAdoNetSchema.EnsureAsync(dataSource, CancellationToken.None);
        var table = new AdoNetClusteringTable(
            _services,
            Options.Create(new ClusterOptions { ClusterId = _clusterId, ServiceId = "membership-tests" }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = "Npgsql", ConnectionString = connectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        var entry = NewEntry(port: 11111);

        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));

        await using var stored = dataSource.CreateCommand(
            "SELECT current_setting('TimeZone'), i_am_alive_time = @alive FROM orleans_membership WHERE deployment_id = @cluster");
        stored.Parameters.AddWithValue("alive", NpgsqlDbType.TimestampTz, entry.IAmAliveTime);
        stored.Parameters.AddWithValue("cluster", _clusterId);
        await using var reader = await stored.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("Asia/Kathmandu", reader.GetString(0));
        Assert.True(reader.GetBoolean(1), "The stored heartbeat is not the instant the silo sent.");
        Assert.Equal(entry.IAmAliveTime, Assert.Single((await table.ReadAllAsync()).Members).Item1.IAmAliveTime);
    }

    private async Task InsertAsync(MembershipEntry entry)
    {
        var version = (await _table.ReadAllAsync()).Version;
        Assert.True(await _table.InsertRowAsync(entry, version.Next()), $"Insert of {entry.SiloAddress} refused.");
    }

    private static MembershipEntry NewEntry(int port, SiloStatus status = SiloStatus.Joining, int proxyPort = 0, DateTime? aliveAt = null)
    {
        var now = Microseconds(DateTime.UtcNow);
        return new MembershipEntry
        {
            SiloAddress = SiloAddress.New(IPAddress.Loopback, port, generation: 7),
            SiloName = $"silo-{port}",
            HostName = "host-a",
            Status = status,
            ProxyPort = proxyPort,
            StartTime = (aliveAt ?? now).AddSeconds(-30),
            IAmAliveTime = aliveAt ?? now,
        };
    }

    /// <summary>PostgreSQL keeps times to the microsecond; .NET to a tenth of one.</summary>
    private static DateTime Microseconds(DateTime time) => new(time.Ticks - time.Ticks % 10, DateTimeKind.Utc);

    private static void AssertSameEntry(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.SiloAddress, actual.SiloAddress);
        Assert.Equal(expected.SiloName, actual.SiloName);
        Assert.Equal(expected.HostName, actual.HostName);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.ProxyPort, actual.ProxyPort);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(expected.IAmAliveTime, actual.IAmAliveTime);
        Assert.Equal(DateTimeKind.Utc, actual.IAmAliveTime.Kind);
    }
}

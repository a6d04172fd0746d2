using System.Net;
using Orleans.Messaging;

namespace Voting.Clustering.Tests.Conformance;

/// <summary>A provider's two halves over one store, for one cluster id.</summary>
public sealed record MembershipProviders(IMembershipTable Table, IGatewayListProvider Gateways);

/// <summary>
/// What Orleans' membership protocol needs from every membership table provider, whatever its store. A provider's
/// test class derives from this, creates its providers in <see cref="CreateProviders"/> and prepares its store in
/// <see cref="SetUpAsync"/>; every test runs on a cluster id of its own.
/// <para>
/// The suite asks for what Orleans relies on, not more. Orleans always writes with the row etag and the table version
/// of one read (<c>MembershipTableManager</c>), so stale writes are tested that way: a provider may, like ADO.NET, use
/// the table version as every row's etag. Entries are compared on the fields every provider stores (ADO.NET keeps
/// neither role nor zones, and suspicions only from updates), with times in whole seconds.
/// </para>
/// </summary>
public abstract class MembershipTableConformance : IAsyncLifetime, IDisposable
{
    private static readonly DateTime Now = new(DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    private readonly List<(string ClusterId, MembershipProviders Providers)> _created = [];
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(1));

    protected MembershipTableConformance()
    {
        ClusterId = $"conformance-{Guid.NewGuid():N}";
    }

    /// <summary>This test's cluster: no other test uses it.</summary>
    protected string ClusterId { get; }

    /// <summary>Cancels a test's membership calls if they have not finished within a minute: no test hangs.</summary>
    protected CancellationToken TestTimeout => _timeout.Token;

    /// <summary>This test's table, not initialized yet.</summary>
    protected IMembershipTable Table { get; private set; } = null!;

    /// <summary>A new table and gateway list provider on the provider's store, for <paramref name="clusterId"/>.</summary>
    protected abstract MembershipProviders CreateProviders(string clusterId);

    /// <summary>Runs before each test, before the first <see cref="CreateProviders"/>: start or clean the store.</summary>
    protected virtual Task SetUpAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        await SetUpAsync();
        Table = Create(ClusterId).Table;
    }

    public async Task DisposeAsync()
    {
        if (_created.Count == 0)
        {
            return;
        }

        foreach (var clusterId in _created.Select(c => c.ClusterId).Distinct())
        {
            await Table.DeleteMembershipTableEntriesAsync(clusterId, CancellationToken.None);
        }

        foreach (var (_, providers) in _created)
        {
            (providers.Table as IDisposable)?.Dispose();
            (providers.Gateways as IDisposable)?.Dispose();
        }
    }

    public void Dispose()
    {
        _timeout.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task InitializingCreatesAnEmptyTableAndInitializingAgainKeepsIt()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var empty = await Table.ReadAllAsync(TestTimeout);

        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);
        Assert.NotNull(empty.Version.VersionEtag);

        Assert.True(await Table.InsertRowAsync(Entry(1, SiloStatus.Joining), empty.Version.Next(), TestTimeout));
        await (await InitializedTableAsync()).InitializeMembershipTableAsync(true, TestTimeout);

        var after = await Table.ReadAllAsync(TestTimeout);
        Assert.Single(after.Members);
        Assert.Equal(1, after.Version.Version);
    }

    [Fact]
    public async Task AnInsertedEntryReadsBackAloneAndInTheWholeTableWithOneVersion()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var before = (await Table.ReadAllAsync(TestTimeout)).Version;
        var entry = Entry(2, SiloStatus.Joining);

        Assert.True(await Table.InsertRowAsync(entry, before.Next(), TestTimeout));

        var row = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);
        var (read, etag) = Assert.Single(row.Members);
        AssertSame(entry, read);
        Assert.False(string.IsNullOrEmpty(etag));
        Assert.Equal(1, row.Version.Version);
        Assert.NotEqual(before.VersionEtag, row.Version.VersionEtag);

        var all = await Table.ReadAllAsync(TestTimeout);
        var (readAll, etagAll) = Assert.Single(all.Members);
        AssertSame(entry, readAll);
        Assert.Equal(etag, etagAll);
        Assert.Equal(row.Version, all.Version);

        var nobody = await Table.ReadRowAsync(Entry(3, SiloStatus.Joining).SiloAddress, TestTimeout);
        Assert.Empty(nobody.Members);
        Assert.Equal(all.Version, nobody.Version);
    }

    [Fact]
    public async Task InsertingASiloThatIsAlreadyInTheTableIsRefused()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(4, SiloStatus.Joining);
        await InsertAsync(Table, entry);
        var version = (await Table.ReadAllAsync(TestTimeout)).Version;

        var again = Copy(entry);
        again.Status = SiloStatus.Active;
        Assert.False(await Table.InsertRowAsync(again, version.Next(), TestTimeout));

        var after = await Table.ReadAllAsync(TestTimeout);
        Assert.Equal(SiloStatus.Joining, Assert.Single(after.Members).Item1.Status);
        Assert.Equal(version, after.Version);
    }

    [Fact]
    public async Task AnUpdateBasedOnAStaleReadIsRefused()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(5, SiloStatus.Joining);
        await InsertAsync(Table, entry);
        var read = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);
        var (current, etag) = read.Members[0];

        var active = Copy(current);
        active.Status = SiloStatus.Active;
        Assert.True(await Table.UpdateRowAsync(active, etag, read.Version.Next(), TestTimeout));

        var dead = Copy(current);
        dead.Status = SiloStatus.Dead;
        Assert.False(await Table.UpdateRowAsync(dead, etag, read.Version.Next(), TestTimeout));

        var after = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);
        var (afterEntry, afterEtag) = Assert.Single(after.Members);
        Assert.Equal(SiloStatus.Active, afterEntry.Status);
        Assert.NotEqual(etag, afterEtag);
        Assert.Equal(2, after.Version.Version);
    }

    [Fact]
    public async Task AnUpdatedEntryReadsBackWithItsStatusSuspicionsAndIAmAlive()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(6, SiloStatus.Active);
        var suspecter = Entry(7, SiloStatus.Active);
        await InsertAsync(Table, entry);
        var read = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);

        var suspected = Copy(read.Members[0].Item1);
        suspected.Status = SiloStatus.Dead;
        suspected.IAmAliveTime = Now.AddSeconds(20);
        suspected.AddSuspector(suspecter.SiloAddress, Now.AddSeconds(10));
        suspected.AddSuspector(entry.SiloAddress, Now.AddSeconds(15));
        Assert.True(await Table.UpdateRowAsync(suspected, read.Members[0].Item2, read.Version.Next(), TestTimeout));

        var after = Assert.Single((await Table.ReadAllAsync(TestTimeout)).Members).Item1;
        AssertSame(suspected, after);
        Assert.Equal(
            suspected.SuspectTimes!.Select(v => (v.Item1, Utc(v.Item2))),
            after.SuspectTimes!.Select(v => (v.Item1, Utc(v.Item2))));
    }

    [Fact]
    public async Task ConcurrentInsertsOfTheSameSiloLetExactlyOneWin()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var version = (await Table.ReadAllAsync(TestTimeout)).Version;
        var tables = new[] { Table, await InitializedTableAsync(), await InitializedTableAsync(), await InitializedTableAsync() };
        var entry = Entry(8, SiloStatus.Joining);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
        {
            var attempt = Copy(entry);
            attempt.SiloName = $"attempt-{i}";
            return tables[i % tables.Length].InsertRowAsync(attempt, version.Next(), TestTimeout);
        }));

        Assert.Single(outcomes, won => won);
        var after = await Table.ReadAllAsync(TestTimeout);
        Assert.Equal($"attempt-{Array.IndexOf(outcomes, true)}", Assert.Single(after.Members).Item1.SiloName);
        Assert.Equal(1, after.Version.Version);
    }

    [Fact]
    public async Task ConcurrentInsertsOfDifferentSilosAtOneTableVersionLetExactlyOneWin()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var version = (await Table.ReadAllAsync(TestTimeout)).Version;
        var tables = new[] { Table, await InitializedTableAsync() };

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => tables[i % tables.Length].InsertRowAsync(Entry(10 + i, SiloStatus.Joining), version.Next(), TestTimeout)));

        Assert.Single(outcomes, won => won);
        var after = await Table.ReadAllAsync(TestTimeout);
        Assert.Equal(Entry(10 + Array.IndexOf(outcomes, true), SiloStatus.Joining).SiloAddress, Assert.Single(after.Members).Item1.SiloAddress);
        Assert.Equal(1, after.Version.Version);
    }

    [Fact]
    public async Task AnInsertWithAStaleTableVersionIsRefused()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var stale = (await Table.ReadAllAsync(TestTimeout)).Version;
        Assert.True(await Table.InsertRowAsync(Entry(20, SiloStatus.Joining), stale.Next(), TestTimeout));

        Assert.False(await Table.InsertRowAsync(Entry(21, SiloStatus.Joining), stale.Next(), TestTimeout));

        var after = await Table.ReadAllAsync(TestTimeout);
        Assert.Equal(Entry(20, SiloStatus.Joining).SiloAddress, Assert.Single(after.Members).Item1.SiloAddress);
        Assert.Equal(1, after.Version.Version);
    }

    [Fact]
    public async Task AnUpdateWithAStaleTableVersionIsRefused()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(22, SiloStatus.Joining);
        await InsertAsync(Table, entry);
        var read = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);
        await InsertAsync(Table, Entry(23, SiloStatus.Joining));

        var active = Copy(read.Members[0].Item1);
        active.Status = SiloStatus.Active;
        Assert.False(await Table.UpdateRowAsync(active, read.Members[0].Item2, read.Version.Next(), TestTimeout));

        var after = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);
        Assert.Equal(SiloStatus.Joining, Assert.Single(after.Members).Item1.Status);
        Assert.Equal(2, after.Version.Version);
    }

    [Fact]
    public async Task IAmAliveShowsInReadsAndLeavesTheRowEtagAndTableVersionAsTheyWere()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(30, SiloStatus.Active);
        await InsertAsync(Table, entry);
        var read = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);
        var (current, etag) = read.Members[0];

        var alive = Copy(current);
        alive.IAmAliveTime = Now.AddSeconds(30);
        await Table.UpdateIAmAliveAsync(alive, TestTimeout);

        var after = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);
        var afterEntry = Assert.Single(after.Members).Item1;
        Assert.Equal(Utc(alive.IAmAliveTime), Utc(afterEntry.IAmAliveTime));
        Assert.Equal(read.Version, after.Version);
        Assert.Equal(SiloStatus.Active, afterEntry.Status);

        var stopping = Copy(afterEntry);
        stopping.Status = SiloStatus.ShuttingDown;
        Assert.True(await Table.UpdateRowAsync(stopping, etag, read.Version.Next(), TestTimeout));
    }

    [Fact]
    public async Task CleanupRemovesOnlyDeadEntriesLastHeardOfBeforeTheCutOff()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var longAgo = Now.AddHours(-1);
        var deadLongAgo = Entry(40, SiloStatus.Dead, longAgo);
        var deadRecently = Entry(41, SiloStatus.Dead, longAgo);
        deadRecently.IAmAliveTime = Now;
        var activeLongAgo = Entry(42, SiloStatus.Active, longAgo);
        foreach (var entry in new[] { deadLongAgo, deadRecently, activeLongAgo })
        {
            await InsertAsync(Table, entry);
        }

        await Table.CleanupDefunctSiloEntriesAsync(new DateTimeOffset(Now.AddMinutes(-10)), TestTimeout);

        var remaining = (await Table.ReadAllAsync(TestTimeout)).Members.Select(m => m.Item1.SiloAddress).ToHashSet();
        Assert.Equal(new HashSet<SiloAddress> { deadRecently.SiloAddress, activeLongAgo.SiloAddress }, remaining);
    }

    [Fact]
    public async Task DeletingTheTableRemovesThisClustersEntriesOnly()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        await InsertAsync(Table, Entry(50, SiloStatus.Active));
        var other = Create(ClusterId + "-other").Table;
        await other.InitializeMembershipTableAsync(true, TestTimeout);
        await InsertAsync(other, Entry(51, SiloStatus.Active));

        await Table.DeleteMembershipTableEntriesAsync(ClusterId, TestTimeout);

        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var mine = await Table.ReadAllAsync(TestTimeout);
        Assert.Empty(mine.Members);
        Assert.Equal(0, mine.Version.Version);
        Assert.Equal(Entry(51, SiloStatus.Active).SiloAddress, Assert.Single((await other.ReadAllAsync(TestTimeout)).Members).Item1.SiloAddress);
    }

    [Fact]
    public async Task TheGatewayListHasTheGatewaysOfActiveSilosOnly()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entries = new[]
        {
            Entry(60, SiloStatus.Active, proxyPort: 30060),
            Entry(61, SiloStatus.Active, proxyPort: 30061),
            Entry(62, SiloStatus.Active, proxyPort: 0),
            Entry(63, SiloStatus.Joining, proxyPort: 30063),
            Entry(64, SiloStatus.ShuttingDown, proxyPort: 30064),
            Entry(65, SiloStatus.Dead, proxyPort: 30065),
        };
        foreach (var entry in entries)
        {
            await InsertAsync(Table, entry);
        }

        var gateways = Create(ClusterId).Gateways;
        await gateways.InitializeGatewayListProviderAsync(TestTimeout);
        var listed = await gateways.GetGatewaysAsync(TestTimeout);

        Assert.Equal(
            new HashSet<Uri> { Gateway(entries[0]), Gateway(entries[1]) },
            listed.ToHashSet());
    }

    /// <summary>Another table on the same cluster, as a second silo has, initialized.</summary>
    protected async Task<IMembershipTable> InitializedTableAsync()
    {
        var table = Create(ClusterId).Table;
        await table.InitializeMembershipTableAsync(true, TestTimeout);
        return table;
    }

    /// <summary>An entry of silo <c>127.0.0.1:{port}</c>, started and alive at <paramref name="time"/> (now by default, whole seconds).</summary>
    protected static MembershipEntry Entry(int port, SiloStatus status, DateTime? time = null, int proxyPort = 30000) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, 11000 + port, 7),
        Status = status,
        ProxyPort = proxyPort,
        HostName = "conformance-host",
        SiloName = $"silo-{port}",
        StartTime = time ?? Now,
        IAmAliveTime = time ?? Now,
    };

    /// <summary>Every field, as Orleans' internal <c>MembershipEntry.Copy</c> does.</summary>
    protected static MembershipEntry Copy(MembershipEntry entry) => new()
    {
        SiloAddress = entry.SiloAddress,
        Status = entry.Status,
        SuspectTimes = entry.SuspectTimes is null ? null : [.. entry.SuspectTimes],
        ProxyPort = entry.ProxyPort,
        HostName = entry.HostName,
        SiloName = entry.SiloName,
        RoleName = entry.RoleName,
        UpdateZone = entry.UpdateZone,
        FaultZone = entry.FaultZone,
        StartTime = entry.StartTime,
        IAmAliveTime = entry.IAmAliveTime,
    };

    /// <summary>Inserts at the table's current version, as a joining silo does.</summary>
    protected async Task InsertAsync(IMembershipTable table, MembershipEntry entry)
    {
        var version = (await table.ReadAllAsync(TestTimeout)).Version;
        Assert.True(await table.InsertRowAsync(entry, version.Next(), TestTimeout), $"insert of {entry.SiloAddress} at {version}");
    }

    protected static void AssertSame(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.SiloAddress, actual.SiloAddress);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.ProxyPort, actual.ProxyPort);
        Assert.Equal(expected.HostName, actual.HostName);
        Assert.Equal(expected.SiloName, actual.SiloName);
        Assert.Equal(Utc(expected.StartTime), Utc(actual.StartTime));
        Assert.Equal(Utc(expected.IAmAliveTime), Utc(actual.IAmAliveTime));
    }

    /// <summary>Stores hand times back as UTC, unspecified or local; the instant is what must survive.</summary>
    protected static DateTime Utc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Local => time.ToUniversalTime(),
        DateTimeKind.Unspecified => DateTime.SpecifyKind(time, DateTimeKind.Utc),
        _ => time,
    };

    private static Uri Gateway(MembershipEntry entry) =>
        SiloAddress.New(entry.SiloAddress.Endpoint.Address, entry.ProxyPort, entry.SiloAddress.Generation).ToGatewayUri();

    private MembershipProviders Create(string clusterId)
    {
        var providers = CreateProviders(clusterId);
        _created.Add((clusterId, providers));
        return providers;
    }
}

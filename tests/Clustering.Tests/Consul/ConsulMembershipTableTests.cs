using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Voting.Clustering.Consul;
using Voting.Clustering.Consul.Testing;
using Voting.Clustering.Tests.Conformance;

namespace Voting.Clustering.Tests.Consul;

/// <summary>
/// The Consul membership table against the in-test Consul: the shared conformance suite, then what is particular to
/// Consul: the key layout, ModifyIndex etags, and data Consul holds that the provider must not misread.
/// </summary>
[Collection(InTestConsulCollection.Name)]
public sealed class ConsulMembershipTableTests(InTestConsulFixture fixture) : MembershipTableConformance
{
    private const string KvRoot = "conformance/";
    private readonly InTestConsul _consul = fixture.Consul;

    protected override MembershipProviders CreateProviders(string clusterId) => Providers(_consul, clusterId, o => o.KvRoot = KvRoot);

    /// <summary>Both providers over <paramref name="consul"/>, with short timeouts and retries fit for tests.</summary>
    internal static MembershipProviders Providers(InTestConsul consul, string clusterId, Action<ConsulClusteringOptions>? configure = null, ILoggerFactory? loggers = null)
    {
        var options = new ConsulClusteringOptions
        {
            Address = consul.Address,
            RequestTimeout = TimeSpan.FromSeconds(5),
            RetryCount = 2,
            RetryBackoff = TimeSpan.FromMilliseconds(50),
        };
        configure?.Invoke(options);
        var cluster = Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "conformance" });
        loggers ??= NullLoggerFactory.Instance;
        return new MembershipProviders(
            new ConsulMembershipTable(Options.Create(options), cluster, loggers),
            new ConsulGatewayListProvider(Options.Create(options), cluster, Options.Create(new GatewayOptions()), loggers));
    }

    [Fact]
    public async Task TheTableLivesUnderTheKvRootAsAVersionKeyARowKeyAndAnIAmAliveKey()
    {
        var providers = Providers(_consul, ClusterId, o => o.KvRoot = "teams/voting.orleans/");
        using var table = (ConsulMembershipTable)providers.Table;
        using var gateways = (ConsulGatewayListProvider)providers.Gateways;
        await table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(1, SiloStatus.Active);
        await InsertAsync(table, entry);
        await table.UpdateIAmAliveAsync(entry, TestTimeout);

        var folder = $"teams/voting.orleans/{ClusterId}/";
        Assert.Equal(
            [$"{folder}iamalive/127.0.0.1_11001_7", $"{folder}members/127.0.0.1_11001_7", $"{folder}version"],
            KeysUnder("teams/voting.orleans/"));
        Assert.DoesNotContain(_consul.Store.Snapshot().Keys, key => key.StartsWith($"{KvRoot}{ClusterId}", StringComparison.Ordinal));

        await table.DeleteMembershipTableEntriesAsync(ClusterId, TestTimeout);
        Assert.Empty(KeysUnder("teams/voting.orleans/"));
    }

    [Fact]
    public async Task EtagsAreTheModifyIndexesOfTheVersionKeyAndTheRowKey()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(2, SiloStatus.Joining);
        await InsertAsync(Table, entry);

        var read = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);

        var keys = _consul.Store.Snapshot();
        Assert.Equal(keys[$"{KvRoot}{ClusterId}/version"].ModifyIndex.ToString(CultureInfo.InvariantCulture), read.Version.VersionEtag);
        Assert.Equal(keys[$"{KvRoot}{ClusterId}/members/127.0.0.1_11002_7"].ModifyIndex.ToString(CultureInfo.InvariantCulture), read.Members[0].Item2);
    }

    [Fact]
    public async Task AStaleRowEtagIsRefusedEvenAtTheCurrentTableVersion()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(3, SiloStatus.Joining);
        await InsertAsync(Table, entry);
        var first = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);
        var active = Copy(first.Members[0].Item1);
        active.Status = SiloStatus.Active;
        Assert.True(await Table.UpdateRowAsync(active, first.Members[0].Item2, first.Version.Next(), TestTimeout));
        var current = (await Table.ReadAllAsync(TestTimeout)).Version;

        var dead = Copy(active);
        dead.Status = SiloStatus.Dead;
        Assert.False(await Table.UpdateRowAsync(dead, first.Members[0].Item2, current.Next(), TestTimeout));

        var after = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);
        Assert.Equal(SiloStatus.Active, after.Members[0].Item1.Status);
        Assert.Equal(current, after.Version);
    }

    [Fact]
    public async Task RewritingAnUnchangedEntryStillGivesItANewEtag()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(4, SiloStatus.Active);
        await InsertAsync(Table, entry);
        var read = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);

        Assert.True(await Table.UpdateRowAsync(read.Members[0].Item1, read.Members[0].Item2, read.Version.Next(), TestTimeout));

        var after = await Table.ReadRowAsync(entry.SiloAddress, TestTimeout);
        Assert.NotEqual(read.Members[0].Item2, after.Members[0].Item2);
        Assert.False(await Table.UpdateRowAsync(read.Members[0].Item1, read.Members[0].Item2, after.Version.Next(), TestTimeout));
    }

    [Fact]
    public async Task EveryFieldOfAnEntryRoundTrips()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(5, SiloStatus.ShuttingDown, proxyPort: 30005);
        entry.RoleName = "worker";
        entry.UpdateZone = 3;
        entry.FaultZone = 4;
        entry.StartTime = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234567);
        entry.IAmAliveTime = entry.StartTime.AddMinutes(1);
        entry.AddSuspector(Entry(6, SiloStatus.Active).SiloAddress, entry.StartTime.AddSeconds(7));
        await InsertAsync(Table, entry);

        var read = Assert.Single((await Table.ReadAllAsync(TestTimeout)).Members).Item1;

        AssertSame(entry, read);
        Assert.Equal(entry.RoleName, read.RoleName);
        Assert.Equal(entry.UpdateZone, read.UpdateZone);
        Assert.Equal(entry.FaultZone, read.FaultZone);
        Assert.Equal(entry.StartTime, read.StartTime);
        Assert.Equal(DateTimeKind.Utc, read.StartTime.Kind);
        Assert.Equal(entry.SuspectTimes, read.SuspectTimes);
    }

    [Fact]
    public async Task IAmAliveWritesOnlyTheIAmAliveKey()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(7, SiloStatus.Active);
        await InsertAsync(Table, entry);
        var before = _consul.Store.Snapshot();

        var alive = Copy(entry);
        alive.IAmAliveTime = entry.IAmAliveTime.AddSeconds(5);
        await Table.UpdateIAmAliveAsync(alive, TestTimeout);

        var after = _consul.Store.Snapshot();
        var folder = $"{KvRoot}{ClusterId}/";
        Assert.Same(before[folder + "version"], after[folder + "version"]);
        Assert.Same(before[folder + "members/127.0.0.1_11007_7"], after[folder + "members/127.0.0.1_11007_7"]);
        Assert.Equal(alive.IAmAliveTime.ToString("O", CultureInfo.InvariantCulture), Encoding.UTF8.GetString(after[folder + "iamalive/127.0.0.1_11007_7"].Value!));
    }

    [Fact]
    public async Task IAmAliveOfASiloThatIsNotInTheTableWritesNothing()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);

        await Table.UpdateIAmAliveAsync(Entry(8, SiloStatus.Active), TestTimeout);

        Assert.Equal([$"{KvRoot}{ClusterId}/version"], KeysUnder($"{KvRoot}{ClusterId}/"));
    }

    [Fact]
    public async Task AnUpdateOfASiloThatIsNotInTheTableIsRefusedAndCreatesNothing()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var version = (await Table.ReadAllAsync(TestTimeout)).Version;

        Assert.False(await Table.UpdateRowAsync(Entry(9, SiloStatus.Active), "0", version.Next(), TestTimeout));
        Assert.False(await Table.UpdateRowAsync(Entry(9, SiloStatus.Active), "not-an-etag", version.Next(), TestTimeout));
        Assert.False(await Table.UpdateRowAsync(Entry(9, SiloStatus.Active), "12345", version.Next(), TestTimeout));

        Assert.Empty((await Table.ReadAllAsync(TestTimeout)).Members);
    }

    [Fact]
    public async Task CleanupKeepsSilosVotedDeadRecentlyAndSilosThatAreNotDead()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        var longAgo = DateTime.UtcNow.AddHours(-2);
        var votedDeadJustNow = Entry(10, SiloStatus.Dead, longAgo);
        votedDeadJustNow.AddSuspector(Entry(11, SiloStatus.Active).SiloAddress, DateTime.UtcNow);
        var stuckJoining = Entry(12, SiloStatus.Joining, longAgo);
        var deadLongAgo = Entry(13, SiloStatus.Dead, longAgo);
        foreach (var entry in new[] { votedDeadJustNow, stuckJoining, deadLongAgo })
        {
            await InsertAsync(Table, entry);
        }

        await Table.UpdateIAmAliveAsync(deadLongAgo, TestTimeout);
        await Table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddHours(-1), TestTimeout);

        Assert.Equal(
            new HashSet<SiloAddress> { votedDeadJustNow.SiloAddress, stuckJoining.SiloAddress },
            (await Table.ReadAllAsync(TestTimeout)).Members.Select(m => m.Item1.SiloAddress).ToHashSet());
        Assert.DoesNotContain($"{KvRoot}{ClusterId}/iamalive/127.0.0.1_11013_7", KeysUnder($"{KvRoot}{ClusterId}/"));
    }

    [Fact]
    public async Task DataTheProviderDidNotWriteIsReportedNotMisread()
    {
        await Table.InitializeMembershipTableAsync(true, TestTimeout);
        Assert.True(_consul.Store.Put($"{KvRoot}{ClusterId}/members/127.0.0.1_11014_7", "{\"not\":\"an entry\"}"u8.ToArray(), 0, null));

        var error = await Assert.ThrowsAsync<ConsulClusteringException>(() => Table.ReadAllAsync(TestTimeout));

        Assert.Contains($"{KvRoot}{ClusterId}/members/127.0.0.1_11014_7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AClusterIdThatCannotBeAConsulKeySegmentIsRefusedByName()
    {
        var error = Assert.Throws<ConsulClusteringException>(() => Providers(_consul, "voting cluster/1"));

        Assert.Contains("'voting cluster/1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clustering:ClusterId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidOptionsAreRefusedNamingEachSettingWithoutShowingTheToken()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Providers(_consul, ClusterId, o =>
        {
            o.Address = "";
            o.KvRoot = "/orleans";
            o.Token = "secret token";
            o.RequestTimeout = TimeSpan.Zero;
            o.RetryCount = -1;
        }));

        foreach (var setting in new[] { "Address", "KvRoot", "Token", "RequestTimeout", "RetryCount" })
        {
            Assert.Contains($"Clustering:Consul:{setting}", error.Message, StringComparison.Ordinal);
            Assert.Contains($"Clustering__Consul__{setting}", error.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
        Assert.Throws<OptionsValidationException>(() => Providers(_consul, ClusterId, o => o.Address = "consul:8500"));
    }

    private List<string> KeysUnder(string prefix) =>
        [.. _consul.Store.Snapshot().Keys.Where(key => key.StartsWith(prefix, StringComparison.Ordinal))];
}

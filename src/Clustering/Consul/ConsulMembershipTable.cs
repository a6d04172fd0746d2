using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Voting.Clustering.Consul;

/// <summary>
/// Orleans' membership table in Consul's key/value store, spoken to over Consul's HTTP API (see <c>docs/CONSUL.md</c>).
/// Optimistic concurrency rests on ModifyIndex: the table version's etag is the version key's ModifyIndex, a row's
/// etag is its key's ModifyIndex, and every insert or update is one transaction that checks and sets both keys, so
/// it succeeds whole or fails whole.
/// </summary>
public sealed partial class ConsulMembershipTable : IMembershipTable, IDisposable
{
    private readonly ConsulKvClient _consul;
    private readonly ConsulKeys _keys;
    private readonly string _kvRoot;
    private readonly string _clusterId;
    private readonly ILogger _logger;

    public ConsulMembershipTable(
        IOptions<ConsulClusteringOptions> options,
        IOptions<ClusterOptions> clusterOptions,
        ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var consul = options.Value;
        ConsulClusteringOptionsValidator.ThrowIfInvalid(consul);
        _kvRoot = consul.KvRoot;
        _clusterId = clusterOptions.Value.ClusterId;
        _keys = new ConsulKeys(_kvRoot, _clusterId);
        _logger = loggerFactory.CreateLogger<ConsulMembershipTable>();
        _consul = new ConsulKvClient(consul, loggerFactory.CreateLogger<ConsulKvClient>());
    }

    /// <summary>Creates the version key at version 0 if it is absent (<c>?cas=0</c>), so concurrent silos agree on one.</summary>
    public async Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken)
    {
        if (tryInitTableVersion)
        {
            // Repeating a create-if-absent changes nothing, so it may be retried after an unknown outcome.
            var created = await _consul.PutCasAsync(_keys.Version, ConsulVersionRow.Serialize(0, NewWriteId()), 0, ConsulRetry.Idempotent, cancellationToken);
            LogInitialized(_logger, _clusterId, _consul.Address, _keys.Cluster, created);
        }
        else
        {
            // Nothing to create; reading proves now, not at the first membership update, that Consul and the token work.
            await _consul.ReadTreeAsync(_keys.Version, cancellationToken);
        }
    }

    public async Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var tree = await _consul.ReadTreeAsync(_keys.Cluster, cancellationToken);
        return ConsulMembershipSnapshot.Read(_keys, tree.Pairs, key);
    }

    /// <summary>One recursive read of the cluster's folder: the version and every row come from the same snapshot.</summary>
    public async Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken)
    {
        var tree = await _consul.ReadTreeAsync(_keys.Cluster, cancellationToken);
        return ConsulMembershipSnapshot.Read(_keys, tree.Pairs);
    }

    /// <summary>
    /// One transaction: <c>cas</c> the version key at the etag read (0 when it was absent) and <c>cas</c> the row key at 0,
    /// so the row is created only if absent. False when either check fails; then nothing changed.
    /// </summary>
    public async Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        if (ConsulMembershipSnapshot.ParseEtag(tableVersion.VersionEtag) is not { } versionIndex)
        {
            LogInsertRefused(_logger, entry.SiloAddress, tableVersion, $"table version etag '{tableVersion.VersionEtag}' was not handed out by this provider");
            return false;
        }

        var writeId = NewWriteId();
        var outcome = await _consul.TransactAsync(
            [
                ConsulTxnKvOperation.Of(ConsulVerbs.Cas, _keys.Version, ConsulVersionRow.Serialize(tableVersion.Version, writeId), versionIndex),
                ConsulTxnKvOperation.Of(ConsulVerbs.Cas, _keys.Member(entry.SiloAddress), ConsulMemberRow.Serialize(entry, writeId), index: 0),
            ],
            ConsulRetry.OnlyIfNotSent,
            cancellationToken);
        if (!outcome.Committed)
        {
            LogInsertRefused(_logger, entry.SiloAddress, tableVersion, outcome.Describe());
        }

        return outcome.Committed;
    }

    /// <summary>
    /// One transaction: <c>cas</c> the version key at its etag and <c>cas</c> the row key at the row's etag. False when
    /// either changed since they were read, or the row is gone; then nothing changed.
    /// </summary>
    public async Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        // Etag 0 would turn the row's cas into a create: an update must find the row.
        if (ConsulMembershipSnapshot.ParseEtag(etag) is not (> 0 and var rowIndex))
        {
            LogUpdateRefused(_logger, entry.SiloAddress, tableVersion, $"row etag '{etag}' was not handed out by this provider");
            return false;
        }

        if (ConsulMembershipSnapshot.ParseEtag(tableVersion.VersionEtag) is not { } versionIndex)
        {
            LogUpdateRefused(_logger, entry.SiloAddress, tableVersion, $"table version etag '{tableVersion.VersionEtag}' was not handed out by this provider");
            return false;
        }

        var writeId = NewWriteId();
        var outcome = await _consul.TransactAsync(
            [
                ConsulTxnKvOperation.Of(ConsulVerbs.Cas, _keys.Version, ConsulVersionRow.Serialize(tableVersion.Version, writeId), versionIndex),
                ConsulTxnKvOperation.Of(ConsulVerbs.Cas, _keys.Member(entry.SiloAddress), ConsulMemberRow.Serialize(entry, writeId), rowIndex),
            ],
            ConsulRetry.OnlyIfNotSent,
            cancellationToken);
        if (!outcome.Committed)
        {
            LogUpdateRefused(_logger, entry.SiloAddress, tableVersion, outcome.Describe());
        }

        return outcome.Committed;
    }

    /// <summary>
    /// Writes the time to the silo's own <c>iamalive</c> key, leaving the row key (and so its etag) and the table version
    /// alone. The same transaction reads the row, so the time is written only while the row exists.
    /// </summary>
    public async Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var outcome = await _consul.TransactAsync(
            [
                ConsulTxnKvOperation.Of(ConsulVerbs.Get, _keys.Member(entry.SiloAddress)),
                ConsulTxnKvOperation.Of(ConsulVerbs.Set, _keys.IAmAliveOf(entry.SiloAddress), ConsulMemberRow.SerializeIAmAlive(entry.IAmAliveTime)),
            ],
            // Setting the same time again changes nothing.
            ConsulRetry.Idempotent,
            cancellationToken);
        if (!outcome.Committed)
        {
            LogIAmAliveWithoutRow(_logger, entry.SiloAddress, outcome.Describe());
        }
    }

    /// <summary>
    /// Removes the entries of dead silos last heard of (started, alive, or voted dead) before <paramref name="beforeDate"/>,
    /// each with a <c>delete-cas</c> at the etag read, so an entry that changed meanwhile stays.
    /// </summary>
    public async Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken)
    {
        var table = await ReadAllAsync(cancellationToken);
        var removed = 0;
        foreach (var (entry, etag) in table.Members)
        {
            if (entry.Status != SiloStatus.Dead || LastHeardOf(entry) >= beforeDate.UtcDateTime)
            {
                continue;
            }

            var outcome = await _consul.TransactAsync(
                [
                    ConsulTxnKvOperation.Of(ConsulVerbs.DeleteCas, _keys.Member(entry.SiloAddress), index: ConsulMembershipSnapshot.ParseEtag(etag) ?? 0),
                    ConsulTxnKvOperation.Of(ConsulVerbs.Delete, _keys.IAmAliveOf(entry.SiloAddress)),
                ],
                ConsulRetry.OnlyIfNotSent,
                cancellationToken);
            if (outcome.Committed)
            {
                removed++;
            }
            else
            {
                LogCleanupSkipped(_logger, entry.SiloAddress, outcome.Describe());
            }
        }

        if (removed > 0)
        {
            LogCleanedUp(_logger, removed, _clusterId, beforeDate);
        }
    }

    /// <summary>Deletes every key of <paramref name="clusterId"/>: the folder <c>{KvRoot}{clusterId}/</c>, recursively.</summary>
    public async Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken)
    {
        var keys = new ConsulKeys(_kvRoot, clusterId);
        await _consul.DeleteTreeAsync(keys.Cluster, cancellationToken);
        LogDeleted(_logger, clusterId, keys.Cluster);
    }

    public void Dispose() => _consul.Dispose();

    // The tokenless members are obsolete in Orleans 10; Orleans calls the cancellation-aware ones above.
    Task IMembershipTable.InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion, CancellationToken.None);

    Task IMembershipTable.DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId, CancellationToken.None);

    Task IMembershipTable.CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate, CancellationToken.None);

    Task<MembershipTableData> IMembershipTable.ReadRow(SiloAddress key) => ReadRowAsync(key, CancellationToken.None);

    Task<MembershipTableData> IMembershipTable.ReadAll() => ReadAllAsync(CancellationToken.None);

    Task<bool> IMembershipTable.InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion, CancellationToken.None);

    Task<bool> IMembershipTable.UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion, CancellationToken.None);

    Task IMembershipTable.UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry, CancellationToken.None);

    /// <summary>The latest of the silo's start, its last IAmAlive and the votes that declared it dead.</summary>
    internal static DateTime LastHeardOf(MembershipEntry entry)
    {
        var last = ConsulMemberRow.Utc(entry.StartTime);
        var alive = ConsulMemberRow.Utc(entry.IAmAliveTime);
        if (alive > last)
        {
            last = alive;
        }

        foreach (var (_, voted) in entry.SuspectTimes ?? [])
        {
            var vote = ConsulMemberRow.Utc(voted);
            if (vote > last)
            {
                last = vote;
            }
        }

        return last;
    }

    private static string NewWriteId() => Guid.NewGuid().ToString("N");

    [LoggerMessage(1, LogLevel.Information, "Membership table of cluster {ClusterId} is in Consul at {Address} under {Prefix} (version key created now: {Created})")]
    private static partial void LogInitialized(ILogger logger, string clusterId, string address, string prefix, bool created);

    [LoggerMessage(2, LogLevel.Debug, "Insert of silo {Silo} at table version {TableVersion} refused: {Reason}")]
    private static partial void LogInsertRefused(ILogger logger, SiloAddress silo, TableVersion tableVersion, string reason);

    [LoggerMessage(3, LogLevel.Debug, "Update of silo {Silo} at table version {TableVersion} refused: {Reason}")]
    private static partial void LogUpdateRefused(ILogger logger, SiloAddress silo, TableVersion tableVersion, string reason);

    [LoggerMessage(4, LogLevel.Warning, "IAmAlive of silo {Silo} not recorded: its entry is no longer in the table ({Reason})")]
    private static partial void LogIAmAliveWithoutRow(ILogger logger, SiloAddress silo, string reason);

    [LoggerMessage(5, LogLevel.Debug, "Defunct silo {Silo} not removed: its entry changed meanwhile ({Reason})")]
    private static partial void LogCleanupSkipped(ILogger logger, SiloAddress silo, string reason);

    [LoggerMessage(6, LogLevel.Information, "Removed {Count} defunct silo entries of cluster {ClusterId} last heard of before {BeforeDate}")]
    private static partial void LogCleanedUp(ILogger logger, int count, string clusterId, DateTimeOffset beforeDate);

    [LoggerMessage(7, LogLevel.Information, "Deleted the membership table of cluster {ClusterId} (every key under {Prefix})")]
    private static partial void LogDeleted(ILogger logger, string clusterId, string prefix);
}

using System.Globalization;

namespace Voting.Clustering.Consul;

/// <summary>Turns the keys of one cluster, read in one snapshot, into Orleans' <see cref="MembershipTableData"/>.</summary>
internal static class ConsulMembershipSnapshot
{
    /// <summary>The version of a table whose version key does not exist yet: etag 0 is what <c>?cas=0</c> expects then.</summary>
    public static TableVersion AbsentVersion { get; } = new(0, "0");

    /// <summary>
    /// The table version (its etag is the version key's ModifyIndex) and the entries (each with its row key's
    /// ModifyIndex as etag), each entry's IAmAlive time being the later of the row's and the <c>iamalive</c> key's.
    /// With <paramref name="only"/>, just that silo's entry.
    /// </summary>
    public static MembershipTableData Read(ConsulKeys keys, IReadOnlyList<ConsulKvPair> pairs, SiloAddress? only = null)
    {
        var version = AbsentVersion;
        var onlySegment = only is null ? null : ConsulKeys.SiloSegment(only);
        var rows = new List<(string Segment, ConsulKvPair Pair)>();
        var alive = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            if (pair.Key == keys.Version)
            {
                version = new TableVersion(ConsulVersionRow.Deserialize(pair.Key, pair.Value), Etag(pair));
            }
            else if (Segment(pair.Key, keys.Members) is { } member && (onlySegment is null || member == onlySegment))
            {
                rows.Add((member, pair));
            }
            else if (Segment(pair.Key, keys.IAmAlive) is { } silo && (onlySegment is null || silo == onlySegment))
            {
                alive[silo] = ConsulMemberRow.DeserializeIAmAlive(pair.Key, pair.Value);
            }
        }

        var members = new List<Tuple<MembershipEntry, string>>(rows.Count);
        foreach (var (segment, pair) in rows)
        {
            var entry = ConsulMemberRow.Deserialize(pair.Key, pair.Value);
            if (ConsulKeys.SiloSegment(entry.SiloAddress) != segment)
            {
                throw new ConsulClusteringException($"Consul key '{pair.Key}' holds the entry of silo {entry.SiloAddress}, which belongs under another key.");
            }

            if (alive.TryGetValue(segment, out var iAmAlive) && iAmAlive > entry.IAmAliveTime)
            {
                entry.IAmAliveTime = iAmAlive;
            }

            members.Add(Tuple.Create(entry, Etag(pair)));
        }

        return new MembershipTableData(members, version);
    }

    public static string Etag(ConsulKvPair pair) => pair.ModifyIndex.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The ModifyIndex an etag stands for. Consul's indexes start at 1, so 0 is an etag no existing key has; an etag this
    /// provider never handed out parses to null.
    /// </summary>
    public static ulong? ParseEtag(string? etag) =>
        ulong.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null;

    private static string? Segment(string key, string folder) =>
        key.Length > folder.Length && key.StartsWith(folder, StringComparison.Ordinal) && key.IndexOf('/', folder.Length) < 0
            ? key[folder.Length..]
            : null;
}

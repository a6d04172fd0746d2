using System.Globalization;

namespace Voting.Clustering.Consul;

/// <summary>
/// The key layout of one cluster's membership table:
/// <code>
/// {KvRoot}{ClusterId}/version               table version; its ModifyIndex is the version's etag
/// {KvRoot}{ClusterId}/members/{silo}        one silo's entry; its ModifyIndex is the row's etag
/// {KvRoot}{ClusterId}/iamalive/{silo}       the silo's last IAmAlive time, written apart so the row's etag survives it
/// </code>
/// <c>{silo}</c> is <c>{ip}_{port}_{generation}</c>, with IPv6 colons written as <c>-</c>. Every key uses only the
/// characters recent Consul versions accept in a key: letters, digits and <c>, - _ . /</c>.
/// </summary>
internal sealed class ConsulKeys
{
    private const string VersionName = "version";
    private const string MembersFolder = "members/";
    private const string IAmAliveFolder = "iamalive/";

    public ConsulKeys(string kvRoot, string clusterId)
    {
        if (ClusterIdProblem(clusterId) is { } problem)
        {
            throw new ConsulClusteringException(
                $"Cluster id '{clusterId}' cannot be part of a Consul key: it {problem} (Orleans ClusterOptions.ClusterId, setting Clustering:ClusterId).");
        }

        Cluster = kvRoot + clusterId + "/";
        Version = Cluster + VersionName;
        Members = Cluster + MembersFolder;
        IAmAlive = Cluster + IAmAliveFolder;
    }

    /// <summary>The folder holding every key of this cluster, ending in <c>/</c>.</summary>
    public string Cluster { get; }

    public string Version { get; }

    public string Members { get; }

    public string IAmAlive { get; }

    public string Member(SiloAddress silo) => Members + SiloSegment(silo);

    public string IAmAliveOf(SiloAddress silo) => IAmAlive + SiloSegment(silo);

    /// <summary>One key segment per silo incarnation; injective because addresses never contain <c>-</c>, <c>,</c> or <c>_</c>.</summary>
    public static string SiloSegment(SiloAddress silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var address = silo.Endpoint.Address.ToString().Replace(':', '-').Replace('%', ',');
        return string.Create(CultureInfo.InvariantCulture, $"{address}_{silo.Endpoint.Port}_{silo.Generation}");
    }

    /// <summary>Why <paramref name="kvRoot"/> cannot be a key prefix, or null when it can.</summary>
    public static string? KvRootProblem(string? kvRoot)
    {
        if (string.IsNullOrEmpty(kvRoot))
        {
            return null;
        }

        if (kvRoot[0] == '/' || kvRoot[^1] != '/')
        {
            return $"must not start with '/' and must end with '/', like 'orleans/', not '{kvRoot}'.";
        }

        if (!kvRoot.All(IsKeyCharacter))
        {
            return $"may contain only letters, digits and , - _ . / (Consul rejects other characters in keys), not '{kvRoot}'.";
        }

        if (kvRoot.Split('/')[..^1].Any(segment => segment is "" or "." or ".."))
        {
            return $"must not contain empty, '.' or '..' segments, not '{kvRoot}'.";
        }

        return null;
    }

    /// <summary>Why <paramref name="clusterId"/> cannot be one key segment, or null when it can.</summary>
    public static string? ClusterIdProblem(string? clusterId)
    {
        if (string.IsNullOrEmpty(clusterId))
        {
            return "is empty";
        }

        if (clusterId is "." or ".." || !clusterId.All(c => c != '/' && IsKeyCharacter(c)))
        {
            return "may contain only letters, digits and , - _ . (and is not '.' or '..')";
        }

        return null;
    }

    private static bool IsKeyCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is ',' or '-' or '_' or '.' or '/';
}

using System.Net;

namespace Voting.ServiceDefaults.Clustering;

/// <summary>Where the Orleans cluster keeps its membership and how this silo joins it (section <c>Clustering</c>).</summary>
public sealed class ClusteringOptions
{
    public const string SectionName = "Clustering";

    /// <summary><c>Localhost</c>: development clustering, the membership table lives in the primary silo.</summary>
    public ClusteringProvider Provider { get; set; } = ClusteringProvider.Localhost;

    public string ClusterId { get; set; } = "voting";

    public string ServiceId { get; set; } = "voting";

    /// <summary>The address other silos and clients reach this silo at. Loopback unless deployed across hosts.</summary>
    public string AdvertisedAddress { get; set; } = IPAddress.Loopback.ToString();

    public int SiloPort { get; set; } = 11111;

    /// <summary>The port clients connect to; 0 for a silo that serves no clients.</summary>
    public int GatewayPort { get; set; }

    /// <summary>
    /// <c>Localhost</c> only: the primary silo's endpoint (<c>host:port</c>), which holds the membership table.
    /// Empty on the primary silo itself.
    /// </summary>
    public string? PrimarySiloEndpoint { get; set; }
}

public enum ClusteringProvider
{
    Localhost,
}

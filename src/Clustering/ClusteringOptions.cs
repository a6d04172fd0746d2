using System.Net;
using Voting.Clustering.Tls;

namespace Voting.Clustering;

/// <summary>Where the Orleans cluster keeps its membership and how this silo joins it (section <c>Clustering</c>).</summary>
public sealed class ClusteringOptions
{
    public const string SectionName = "Clustering";

    /// <summary>Which membership table every silo and client of the cluster uses.</summary>
    public ClusteringProvider Provider { get; set; } = ClusteringProvider.Localhost;

    public string ClusterId { get; set; } = "voting";

    public string ServiceId { get; set; } = "voting";

    /// <summary>
    /// The address other silos and clients reach this silo at: an IP address; a network such as <c>10.0.9.0/24</c>,
    /// meaning this machine's address in it (in a Swarm task: its address on the stack's overlay network); or a host
    /// name, resolved once at start-up. Loopback unless deployed across hosts.
    /// </summary>
    public string AdvertisedAddress { get; set; } = IPAddress.Loopback.ToString();

    /// <summary><see cref="AdvertisedAddress"/> as read and resolved at start-up.</summary>
    public IPAddress ResolvedAdvertisedAddress { get; internal set; } = IPAddress.Loopback;

    public int SiloPort { get; set; } = 11111;

    /// <summary>The port clients connect to; 0 for a silo that serves no clients.</summary>
    public int GatewayPort { get; set; }

    /// <summary>
    /// <c>Localhost</c> only: the primary silo's endpoint (<c>host:port</c>), which holds the membership table.
    /// Empty on the primary silo itself.
    /// </summary>
    public string? PrimarySiloEndpoint { get; set; }

    /// <summary><c>Localhost</c> only: the gateway (<c>host:port</c>) Orleans clients connect to.</summary>
    public string LocalhostGateway { get; set; } = "127.0.0.1:30000";

    /// <summary>
    /// The PostgreSQL database (Npgsql connection string) that keeps Orleans' tables: the membership table with
    /// <c>AdoNet</c>, and the reminders and grain state with <c>AdoNet</c> and <c>Consul</c>. Defaults to
    /// <c>Postgres:ConnectionString</c> when that is set.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Mutual TLS between the members of the cluster (section <c>Clustering:Tls</c>); off when not set.</summary>
    public ClusterTlsOptions Tls { get; set; } = new();

    /// <summary><see cref="Tls"/> as read and checked at start-up; null when cluster TLS is off.</summary>
    public ClusterTls? ResolvedTls { get; internal set; }
    /// <summary>
    /// The schema owner's connection to that database, with which this silo creates or migrates Orleans' tables;
    /// defaults to <c>Postgres:MigrationConnectionString</c>. Without it the silo applies missing scripts as its own
    /// role, or waits for the owner when its role may not.
    /// </summary>
    public string? MigrationConnectionString { get; set; }
}

public enum ClusteringProvider
{
    /// <summary>Development: the primary silo keeps the membership table in memory; reminders and state in memory.</summary>
    Localhost,

    /// <summary>The membership table, reminders and grain state in PostgreSQL, through Orleans' ADO.NET providers.</summary>
    AdoNet,

    /// <summary>
    /// The membership table in Consul's key/value store (section <c>Clustering:Consul</c>), the same Consul Swarm uses;
    /// reminders and grain state in PostgreSQL.
    /// </summary>
    Consul,
}

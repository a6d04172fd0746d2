namespace Voting.ServiceDefaults.Edge;

/// <summary>
/// Kestrel's limits for a process that faces the internet (section <c>Edge:Limits</c>): the balancer, and the front
/// ends behind it. Tighter than Kestrel's defaults, which suit a trusted network: a client that opens connections and
/// sends nothing, or sends its headers or body a byte at a time (slowloris), is cut off instead of holding a
/// connection. The request body limits are the applications' own (<c>Balancer:MaxRequestBodyBytes</c>,
/// <c>Frontend:MaxRequestBodyBytes</c>): a vote is a few bytes.
/// </summary>
public sealed class EdgeLimitsOptions
{
    public const string SectionName = EdgeOptions.SectionName + ":Limits";

    /// <summary>All of a request's headers must have arrived within this time of its first byte (Kestrel: 30 s).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An idle keep-alive connection is closed after this (Kestrel: 130 s).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Open connections beyond this are refused at once (Kestrel: no limit), so a flood cannot exhaust file descriptors.</summary>
    public int MaxConcurrentConnections { get; set; } = 10_000;

    /// <summary>The most a request's headers may add up to, in bytes (Kestrel: 32 KiB); a voter sends well under 1 KiB.</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = 16 * 1024;

    /// <summary>A body that arrives slower than this many bytes a second, after <see cref="MinRequestBodyGracePeriod"/>, is cut off.</summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a body may arrive slower than <see cref="MinRequestBodyBytesPerSecond"/> before it is cut off.</summary>
    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);
}

using System.Net;

namespace Voting.ServiceDefaults.Edge;

/// <summary>
/// Which hops in front of this process may say who the client is (section <c>Edge</c>): a request from an address in
/// <see cref="TrustedProxies"/> has its <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> believed; from anywhere
/// else those headers change nothing, so a client cannot pick the address its rate limits are kept under.
/// </summary>
public sealed class EdgeOptions
{
    public const string SectionName = "Edge";

    /// <summary>Loopback, trusted when <see cref="TrustedProxies"/> names nothing.</summary>
    public static readonly IReadOnlyList<string> Loopback = ["127.0.0.0/8", "::1/128"];

    /// <summary>
    /// The networks (CIDR, e.g. <c>Edge:TrustedProxies:0</c> = <c>10.0.9.0/24</c>) of the proxies whose forwarding
    /// headers are believed. When none is configured, <see cref="Loopback"/> only, which is what one machine
    /// (<c>./voting up</c>, the tests, the load tool) needs. The effective list is never empty: ASP.NET Core trusts every
    /// sender when it knows no network, which would let any client choose its own address. (Empty here rather than
    /// holding the default, because configuration binding adds to a list it finds filled.)
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>The networks trusted: <see cref="TrustedProxies"/>, or <see cref="Loopback"/> when it is empty.</summary>
    public IReadOnlyList<string> EffectiveTrustedProxies => TrustedProxies.Count > 0 ? TrustedProxies : Loopback;

    /// <summary>
    /// How many trusted hops' entries are taken from the right of <c>X-Forwarded-For</c>: 1 when one proxy (the
    /// balancer, or a CDN in front of it) adds the client's address. More only where several trusted proxies chain.
    /// </summary>
    public int ForwardLimit { get; set; } = 1;

    /// <summary>
    /// Whether requests must have come over HTTPS — the connection's own, or a trusted proxy's
    /// <c>X-Forwarded-Proto: https</c> — for a front end to answer them (the health probes and the management port
    /// excepted), and cookies are held to ASP.NET Core's cookie policy (<c>Secure</c>, <c>HttpOnly</c>). Unset: on
    /// outside Development. <c>./voting up</c> and the tests turn it off for plain HTTP on loopback.
    /// </summary>
    public bool? RequireHttps { get; set; }

    /// <summary><see cref="RequireHttps"/>, or its default: on except in Development.</summary>
    public bool RequiresHttps(Microsoft.Extensions.Hosting.IHostEnvironment environment) =>
        RequireHttps ?? !Microsoft.Extensions.Hosting.HostEnvironmentEnvExtensions.IsDevelopment(environment);

    /// <summary>The configured networks, or null when one of them is not CIDR notation without host bits.</summary>
    public IReadOnlyList<IPNetwork>? ParseTrustedProxies()
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in EffectiveTrustedProxies)
        {
            // IPNetwork clears host bits silently; refused here instead: 10.0.9.1/24 meant as one host would trust 256.
            var text = entry?.Trim() ?? "";
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0 || !IPNetwork.TryParse(text, out var network)
                || !IPAddress.TryParse(text.AsSpan(0, slash), out var address) || !network.BaseAddress.Equals(address))
            {
                return null;
            }

            networks.Add(network);
        }

        return networks;
    }
}
